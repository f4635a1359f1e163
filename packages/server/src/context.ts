/**
 * What the platform gives every service and every request. A leaf module: it imports types only,
 * so services, the gateway and the composition root (app.ts) can all depend on it without cycles.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { OperationDef } from '@stockade/sdk';
import type { Config } from './config.js';
import type { Store } from './store/db.js';
import type { Executor } from './store/schema.js';
import type { BlobStore } from './store/blobs.js';
import type { VolumeStore } from './store/volumes.js';
import type { AuditLog, AuditEventInput } from './store/audit.js';
import type { SecretBox } from './iam/secrets.js';
import type { Iam, Identity } from './iam/iam.js';
import type { Clock } from './tasks/clock.js';
import type { TaskRunner } from './tasks/runner.js';
import type { LifecyclePolicies } from './tasks/lifecycle.js';
import type { Lang } from './platform/i18n.js';

/**
 * The public interfaces services offer each other, by service name. Each service that offers one
 * adds itself in its `api.ts` (`declare module '../../context.js' { interface ServiceApis { … } }`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ServiceApis {}

export interface AppContext {
  config: Config;
  store: Store;
  blobs: BlobStore;
  volumes: VolumeStore;
  audit: AuditLog;
  iam: Iam;
  /** Seals secrets under the master key; services seal theirs under a key of their own (`forPurpose`). */
  secrets: SecretBox;
  clock: Clock;
  runner: TaskRunner;
  lifecycle: LifecyclePolicies;
  logger: Logger;
  /** Another service's public interface (its `api.ts`). Throws when that service is not registered. */
  api<K extends keyof ServiceApis>(name: K): ServiceApis[K];
}

/** Who and where an audit event comes from, as the request context knows it. */
export type AuditWho = Pick<AuditEventInput, 'accountId' | 'userId' | 'userName' | 'accessKeyId' | 'clientAddress' | 'requestId'>;

export interface RequestContext<S = unknown> {
  app: AppContext;
  /** The instance of the service that serves this operation (its repository, its state). */
  svc: S;
  identity: Identity;
  lang: Lang;
  requestId: string;
  op: OperationDef;
  headers: IncomingHttpHeaders;
  /** The client's address as the socket reports it. */
  clientAddress: string;
  /**
   * One transaction for the request's changes: the tasks it enqueues and the audit events it
   * writes commit with them (the runner is woken after the commit). For an operation that
   * declares idempotency, the value `fn` returns is recorded as the token's replay in the same
   * transaction, so a crash can never separate the effects from their recorded result.
   */
  tx<T>(fn: (trx: Executor) => Promise<T>): Promise<T>;
  /** Writes an audit event in `trx`, with who and where filled in from this request. */
  audit(trx: Executor, action: string, resource: string, detail?: unknown): Promise<void>;
  /** Who this request is, for audit events written by other means (e.g. a task started by it). */
  who: AuditWho;
}
