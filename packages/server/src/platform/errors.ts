/**
 * Errors a handler or the gateway raises. An ApiError already carries the service's own code and
 * HTTP status; each service's protocol (gateway/protocols.ts) renders it in that service's envelope.
 *
 * Handlers never write codes and statuses by hand: each service builds typed factories from its
 * operation table's error catalogue with `defineErrors`, together with its localised messages.
 * With contract checks on (tests), the gateway refuses an error that the operation does not
 * declare (see gateway/contract.ts).
 */
import type { DocumentedError } from '@stockade/sdk';
import { format, type Lang, type TextParams, type Texts } from './i18n.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Longer explanation (NCP `details`, Data Flow `detail`). */
    readonly details: string = message,
    /** Which envelope: NCP gateway errors use the legacy envelope even on Data Flow. */
    readonly layer: 'service' | 'gateway' = 'service',
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * The failures every service has, whatever its vocabulary. The gateway raises these by kind and
 * each service's protocol maps a kind to its own code and status.
 */
export type GenericFailure =
  | 'authMissing' // no credentials at all
  | 'validation' // missing parameter, wrong type, out of range
  | 'badUri' // the request path is not valid percent-encoding of UTF-8
  | 'badEncoding' // the body is not UTF-8
  | 'badRequest' // the HTTP parser refused the request: headers over the limit, or not HTTP
  | 'malformedBody' // body is not JSON
  | 'unsupportedMediaType' // body with a non-JSON content type
  | 'bodyTooLarge'
  | 'notImplemented'
  | 'forbidden' // authenticated, but the user's role does not allow the operation
  | 'routeNotFound'
  | 'idempotencyMismatch' // a client token reused with other parameters
  | 'idempotencyInFlight' // a client token whose first request is still running
  | 'internal';

/** What the gateway knows about a `validation` failure, for protocols that name the field. */
export interface ValidationInfo {
  /** The field as a client names it (`tags[2].tagKey`). */
  field: string;
  /** The field is required and absent. */
  missing: boolean;
  /** The documented error the failing schema names (`invalidAs` in the operation table). */
  invalidAs?: DocumentedError;
}

/** A message: localised texts, or one text for every language (services that are not localised). */
export type Message = Texts | string;

/** The factory of one documented error: `(lang, params?, details?) => ApiError`. */
export type ErrorFactory = ((lang: Lang, params?: TextParams, details?: string) => ApiError) & {
  readonly status: number;
  readonly code: string;
};

/**
 * Typed error factories from an error catalogue (`DATAFENCE_ERRORS`, `CFS_ERRORS`, …) and the
 * service's messages for them. `details` defaults to the message.
 */
export function defineErrors<C extends Record<string, DocumentedError>>(
  catalogue: C,
  messages: { [K in keyof C]?: Message },
): { [K in keyof C]: ErrorFactory } {
  const out: Record<string, ErrorFactory> = {};
  for (const [key, def] of Object.entries(catalogue)) {
    const m = messages[key as keyof C];
    const texts: Texts | undefined =
      m === undefined ? undefined : typeof m === 'string' ? { 'en-US': m, 'ko-KR': m, 'zh-CN': m } : m;
    const factory = (lang: Lang, params: TextParams = {}, details?: string): ApiError => {
      const message = texts ? format(texts, lang, params) : def.when;
      return new ApiError(def.status, def.code, message, details ?? message);
    };
    out[key] = Object.assign(factory, { status: def.status, code: def.code });
  }
  return out as { [K in keyof C]: ErrorFactory };
}
