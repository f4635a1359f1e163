/** The `stockade` service's instance: no state beyond the platform it reads, and one shared audit verification. */
import type { AppContext } from '../../context.js';
import type { ServiceHooks } from '../../platform/service.js';
import type { AuditReport } from '../../store/audit.js';

/** How long one walk of the audit chain answers verify-audit-chain (its `verifiedAt` says when it ran). */
export const VERIFY_REUSE_MS = 5_000;

export class StockadeService implements ServiceHooks {
  #verification: { startedAt: number; report: Promise<AuditReport> } | null = null;

  constructor(readonly app: AppContext) {}

  /**
   * The audit chain's report. Walking it reads every event, so calls at the same time share one
   * walk, and a walk started less than VERIFY_REUSE_MS ago answers again: an owner key cannot make
   * the server read the whole log in a loop.
   */
  verifyAudit(): { startedAt: number; report: Promise<AuditReport> } {
    const now = this.app.clock.now();
    const v = this.#verification;
    if (v && now - v.startedAt < VERIFY_REUSE_MS) return v;
    const report = this.app.audit.verify(this.app.store.db);
    const fresh = { startedAt: now, report };
    this.#verification = fresh;
    // A failed walk is not reused.
    report.catch(() => {
      if (this.#verification === fresh) this.#verification = null;
    });
    return fresh;
  }
}
