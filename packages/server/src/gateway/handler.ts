/** What a handler receives and may return. Handlers hold behaviour only; the gateway does the rest. */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { OperationDef, OperationInput, OperationOutput } from '@stockade/sdk';
import type { Identity } from '../iam/iam.js';
import type { AppContext } from '../app.js';
import type { Lang } from './i18n.js';

export interface RequestContext {
  app: AppContext;
  identity: Identity;
  lang: Lang;
  requestId: string;
  op: OperationDef;
  headers: IncomingHttpHeaders;
}

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
export type Handler = (ctx: RequestContext, input: any) => Promise<unknown>;

/**
 * A response type with its string/number literal unions widened: rows read from the database
 * carry plain strings, and the schema (not the compiler) is what pins enum values on the wire.
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
export type HandlersOf<Ops> = {
  [K in keyof Ops]?: (ctx: RequestContext, input: OperationInput<Ops[K]>) => Promise<Widen<OperationOutput<Ops[K]>> | Serialized<Widen<OperationOutput<Ops[K]>>> | Reply>;
};

export function defineHandlers<Ops>(_ops: Ops, handlers: HandlersOf<Ops>): Record<string, Handler> {
  return handlers as Record<string, Handler>;
}

/** Error codes of a connection the client closed or reset. */
const DISCONNECT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * Did this request fail because the client went away (closed the connection mid-body, or
 * stopped reading a response)? Such a failure is routine: the gateway notes it at debug level,
 * and nobody should log it as an error.
 */
export function clientGone(req: IncomingMessage, err?: unknown): boolean {
  if (req.socket?.destroyed === true || (req.destroyed && !req.complete)) return true;
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && DISCONNECT_CODES.has(code);
}
