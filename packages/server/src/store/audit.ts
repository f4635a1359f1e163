/**
 * Audit log (placeholder until the hash-chained log lands): `record(trx, event)` appends an event in
 * the caller's transaction.
 */
import type { Clock } from '../tasks/clock.js';
import { asDb, type CoreDatabase, type Executor } from './schema.js';

export interface AuditEventInput {
  accountId: string | null;
  userId?: string | null;
  userName?: string | null;
  /** Access key id, or `system` for the server itself. */
  accessKeyId: string;
  action: string;
  resource: string;
  detail?: unknown;
  clientAddress?: string | null;
  requestId?: string | null;
}

export class AuditLog {
  constructor(private readonly clock: Clock) {}

  async record(trx: Executor, e: AuditEventInput): Promise<void> {
    await asDb<CoreDatabase>(trx)
      .insertInto('audit_events')
      .values({
        at: this.clock.now(),
        account_id: e.accountId,
        actor: e.accessKeyId,
        action: e.action,
        resource: e.resource,
        detail: e.detail === undefined ? null : JSON.stringify(e.detail),
      })
      .execute();
  }
}
