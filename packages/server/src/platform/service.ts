/**
 * The shape of a service. A service lives in `services/<name>/` and is one `ServiceModule`,
 * registered with one line in `services/index.ts`. The module declares everything the platform
 * needs from it:
 *
 * - `handlers`: one function per operation of its operation table (behaviour only; the gateway
 *   routes, authenticates, authorises, validates, applies idempotency and renders errors);
 * - `tables` and `migrations`: its own tables (reset empties them), applied in the global order;
 * - `tasks`: its durable task kinds, with payload schemas and their own concurrency;
 * - `create(app)`: its instance (repository, state), with optional hooks: `api` (what it offers
 *   other services, typed in its `api.ts`), `raw` (requests it answers itself, S3),
 *   `onAccountCreated`, `afterReset`, `start`, `stop`, `banner`.
 *
 * A handler receives the request context with `ctx.svc`, the service's instance.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Static, TSchema } from '@sinclair/typebox';
import type { OperationInput, OperationOutput, ServiceName } from '@stockade/sdk';
import type { AppContext, RequestContext } from '../context.js';
import type { Executor } from '../store/schema.js';
import type { TableSet } from '../store/tables.js';
import type { Migration } from '../store/migrations.js';
import type { TaskContext } from '../tasks/runner.js';

/** A response with an explicit status (otherwise the operation's success status is used). */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/**
 * A response body serialised once, for answers that never change (catalogues): the gateway sends
 * the bytes as they are instead of serialising the value on every request.
 */
export class Serialized<T = unknown> {
  readonly bytes: Buffer;
  constructor(readonly value: T) {
    this.bytes = Buffer.from(JSON.stringify(value));
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler<S = any> = (ctx: RequestContext<S>, input: any) => Promise<unknown>;

/**
 * A response type with its string/number literal unions widened: rows read from the database
 * carry plain strings, and the schema (not the compiler) is what pins enum values on the wire
 * (checked in tests, see gateway/contract.ts).
 */
export type Widen<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends null | undefined
        ? T
        : T extends Array<infer U>
          ? Array<Widen<U>>
          : T extends object
            ? { [K in keyof T]: Widen<T[K]> }
            : T;

/** Handlers of one service, typed from its operation table: field names follow the schemas. */
export type HandlersOf<Ops, S> = {
  [K in keyof Ops]?: (
    ctx: RequestContext<S>,
    input: OperationInput<Ops[K]>,
  ) => Promise<Widen<OperationOutput<Ops[K]>> | Serialized<Widen<OperationOutput<Ops[K]>>> | Reply>;
};

/** `handlersFor<MyService>()(myOps, { … })`: the service type first, the table inferred. */
export function handlersFor<S>() {
  return <Ops>(_ops: Ops, handlers: HandlersOf<Ops, S>): Record<string, Handler<S>> => handlers as Record<string, Handler<S>>;
}

/** What the gateway already knows about a request when it hands it to a raw (streaming) service. */
export interface RawRequestInfo {
  requestId: string;
  /** Request-target as received: path and query, percent-encoding preserved. */
  target: string;
  rawPath: string;
  rawQuery: string | null;
}

/** A service that handles its own requests end to end (Object Storage: streaming bodies, XML). */
export type RawService = (req: IncomingMessage, res: ServerResponse, info: RawRequestInfo) => Promise<void>;

/** A durable task kind of a service. See tasks/runner.ts for the guarantees. */
export interface TaskKind<S = unknown, P = unknown> {
  /** Globally unique; by convention `<service>.<what>` (`datafence.box-transition`). */
  kind: string;
  /** Checked when the task is enqueued and again when it is claimed. */
  payload: TSchema;
  /** Runs of this kind at once in one process (default: the runner's). */
  concurrency?: number;
  /** Lease length (default: the runner's); renewed every third of it while running. */
  leaseMs?: number;
  /** A run longer than this is aborted and the task fails without retry. */
  timeoutMs?: number;
  maxAttempts?: number;
  backoffMs?: (attempt: number) => number;
  /** Finished tasks of this kind are purged this long after they finished (default 7 days). */
  retentionMs?: number;
  run(svc: S, payload: P, ctx: TaskContext): Promise<void>;
}

/** `taskFor<MyService>()({ kind, payload: Type.Object(…), run })`: the payload type follows the schema. */
export function taskFor<S>() {
  return <T extends TSchema>(def: Omit<TaskKind<S, Static<T>>, 'payload'> & { payload: T }): TaskKind<S, Static<T>> => def;
}

/** A service instance: its platform, and optional hooks. */
export interface ServiceHooks {
  readonly app: AppContext;
  /** What other services may use (its `api.ts` declares the type in `ServiceApis`). */
  api?: unknown;
  /** Requests this service answers itself, after the gateway chose it by scheme or host. */
  raw?: RawService;
  /** In the transaction that creates an account (first start, `accounts create`), and after reset. */
  onAccountCreated?(trx: Executor, account: { id: string; name: string }): Promise<void>;
  /** After reset emptied the service's tables: remove what lives outside the database. */
  afterReset?(): Promise<void>;
  /**
   * Dev-profile test controls of this service under `/_stockade/` (control.ts calls it after its
   * guards, for paths its own routes do not answer). Return false to fall through.
   */
  control?(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** After the server listens (background loops, child processes). */
  start?(): void | Promise<void>;
  /** Before the database closes. */
  stop?(): Promise<void>;
  /** Lines for the start-up banner (what the service serves besides the API, and where). */
  banner?(): string[];
}

export interface ServiceModule<S extends ServiceHooks = ServiceHooks> {
  name: string;
  /** The operation table's service this module serves through the gateway (absent for S3, which is raw). */
  serves?: Exclude<ServiceName, 's3'>;
  handlers?: Record<string, Handler<S>>;
  /** Operations a raw service implements, by name (the coverage matrix lists them). */
  rawOperations?: readonly string[];
  tables: TableSet;
  migrations: readonly Migration[];
  tasks?: ReadonlyArray<TaskKind<S, never>>;
  create(app: AppContext): S;
}

export function defineService<S extends ServiceHooks>(module: ServiceModule<S>): ServiceModule<S> {
  return module;
}
