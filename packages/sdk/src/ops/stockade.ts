/**
 * `stockade`: Stockade's own operations, signed like the NCP services (signature v2) and answered
 * in the NCP API Gateway envelope. No vendor documents them; they exist so that a client holding
 * only an access key (the web console) can learn who it is and read its account's audit log
 * through the same gateway, signatures and roles as every other call (docs/console.md).
 */
import { Type } from '@sinclair/typebox';
import { MAX_ID, Nullable, op } from './types.js';

export const STOCKADE_ERRORS = {
  invalidParameter: { status: 400, code: '10001', when: 'a parameter is missing, of the wrong type or out of range' },
} as const;

const Role = Type.Union([Type.Literal('owner'), Type.Literal('fence-admin'), Type.Literal('box-user')]);

export const AuditEventSchema = Type.Object({
  seq: Type.Integer(),
  /** ISO 8601, UTC. */
  at: Type.String(),
  userName: Nullable(Type.String()),
  accessKeyId: Type.String(),
  action: Type.String(),
  resource: Type.String(),
  fenceId: Nullable(Type.Integer()),
  detail: Type.Unknown(),
  clientAddress: Nullable(Type.String()),
  requestId: Nullable(Type.String()),
});

export const stockadeOps = {
  getCallerIdentity: op({
    service: 'stockade',
    name: 'get-caller-identity',
    method: 'GET',
    path: '/api/v1/stockade/caller-identity',
    summary: 'Who signed this request: account, user, role and access key, and the S3 regions the server serves',
    response: Type.Object({
      accountId: Type.String(),
      userId: Type.String(),
      userName: Type.String(),
      role: Role,
      accessKeyId: Type.String(),
      /** The regions an S3 signature's scope may name; the first is the default. */
      s3Regions: Type.Array(Type.String()),
    }),
    auth: 'ncp-v2',
    role: 'box-user',
    errors: [],
  }),
  listAuditEvents: op({
    service: 'stockade',
    name: 'list-audit-events',
    method: 'GET',
    path: '/api/v1/stockade/audit-events',
    summary: "The caller's account's audit events, newest first, a page at a time (fence-admin keys: its fences' events only)",
    query: Type.Object({
      /** Only events with a smaller seq (the previous page's last). */
      before: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ID })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
      /** Exact action, or a prefix ending in `.` (`box.`). */
      action: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
      /** Resource prefix by whole segments (`fence/3`). */
      resource: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    }),
    response: Type.Object({ events: Type.Array(AuditEventSchema) }),
    auth: 'ncp-v2',
    // Owner keys: every event of the account. Fence-admin keys (the Datafence reviewers): only the
    // events that belong to a fence (a non-null fenceId), since reviewers need the trail of what
    // they decide; account-wide events (the account's creation, CFS, Data Flow) stay with owners.
    role: 'fence-admin',
    errors: [STOCKADE_ERRORS.invalidParameter],
  }),
  verifyAuditChain: op({
    service: 'stockade',
    name: 'verify-audit-chain',
    method: 'GET',
    path: '/api/v1/stockade/audit-chain',
    summary: 'Walks the whole audit hash chain and says whether it is intact',
    // Only whether the chain is intact and how many problems it has: the chain holds every
    // account's events, so their number and the problems' rows are not the caller's to see.
    response: Type.Object({ intact: Type.Boolean(), problemCount: Type.Integer(), verifiedAt: Type.String() }),
    auth: 'ncp-v2',
    role: 'owner',
    errors: [],
  }),
};
