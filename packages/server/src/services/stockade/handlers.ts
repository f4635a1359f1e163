/** `stockade` handlers: one function per operation of `stockadeOps`. Behaviour only. */
import { stockadeOps } from '@stockade/sdk';
import { handlersFor } from '../../platform/service.js';
import type { StockadeService } from './service.js';

export const handlers = handlersFor<StockadeService>()(stockadeOps, {
  async getCallerIdentity(ctx) {
    const { accountId, userId, userName, role, accessKeyId } = ctx.identity;
    return { accountId, userId, userName, role, accessKeyId, s3Regions: [...ctx.app.config.s3Regions] };
  },

  async listAuditEvents(ctx, input) {
    // Always the caller's account: the filter cannot name another one. Owner keys read all of it.
    // Fence-admin keys (the Datafence reviewers) read the events that belong to a fence — boxes,
    // imports, exports, votes, reads of a sealed review bucket — because reviewers need the trail
    // of what they decide; account-wide events (the account, CFS, Data Flow, …) stay with owners.
    // Filtered in SQL, so a page is a page of what the key may see. Box-user keys never get here
    // (the operation's role).
    const events = await ctx.app.audit.list(ctx.app.store.db, {
      accountId: ctx.identity.accountId,
      ...(ctx.identity.role === 'owner' ? {} : { fenceScoped: true }),
      order: 'desc',
      limit: input.limit ?? 50,
      ...(input.before !== undefined ? { before: input.before } : {}),
      ...(input.action !== undefined ? { action: input.action } : {}),
      ...(input.resource !== undefined ? { resource: input.resource } : {}),
    });
    return {
      events: events.map((e) => ({
        seq: e.seq,
        at: new Date(e.at).toISOString(),
        userName: e.userName,
        accessKeyId: e.accessKeyId,
        action: e.action,
        resource: e.resource,
        fenceId: e.fenceId,
        detail: e.detail,
        clientAddress: e.clientAddress,
        requestId: e.requestId,
      })),
    };
  },

  async verifyAuditChain(ctx) {
    const { startedAt, report } = ctx.svc.verifyAudit();
    const r = await report;
    return { intact: r.ok, problemCount: r.problems.length, verifiedAt: new Date(startedAt).toISOString() };
  },
});
