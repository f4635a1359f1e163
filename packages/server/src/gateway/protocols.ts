/**
 * Each service's wire protocol for errors: how a generic failure is named in that service, and
 * how an ApiError is rendered (DESIGN.md "Error envelopes differ per service").
 */
import type { ServiceName } from '@stockade/sdk';
import { ApiError, type GenericFailure, type ValidationInfo } from '../platform/errors.js';
import type { Lang } from '../platform/i18n.js';
import { t } from './i18n.js';

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Protocol {
  service: ServiceName;
  /**
   * Map a failure every service has to this service's code and status. `info` names the field of a
   * `validation` failure, when one field is to blame.
   */
  failure(kind: GenericFailure, lang: Lang, detail: string, info?: ValidationInfo): ApiError;
  render(err: ApiError, ctx: { requestId: string; path: string }): RenderedError;
}

const JSON_TYPE = 'application/json;charset=UTF-8';

/** The NCP API Gateway ("legacy") envelope, used by Datafence always and by Data Flow for gateway errors. */
export function renderNcpLegacy(err: ApiError): RenderedError {
  return {
    status: err.status,
    headers: { 'content-type': JSON_TYPE },
    body: JSON.stringify({ error: { errorCode: err.code, message: err.message, details: err.details } }),
  };
}

/** NCP gateway failures, shared by both NCP services (auth.md §2.4). */
function ncpGateway(kind: GenericFailure, lang: Lang, detail: string): ApiError | null {
  const g = (status: number, code: string, message: string) => new ApiError(status, code, message, detail, 'gateway');
  switch (kind) {
    case 'authMissing':
      return g(401, '200', t(lang, 'auth.failed'));
    case 'forbidden':
      return g(401, '210', t(lang, 'permission.denied'));
    case 'badUri':
    case 'badEncoding':
    case 'badRequest':
      // auth.md §2.4: 400/100 "Bad Request Exception" for protocol and encoding (UTF-8) problems.
      return g(400, '100', t(lang, 'invalid.encoding'));
    case 'routeNotFound':
      return g(404, '300', t(lang, 'route.notFound'));
    case 'bodyTooLarge':
      return g(413, '430', t(lang, 'body.tooLarge'));
    case 'internal':
      return g(500, '900', t(lang, 'unexpected'));
    default:
      return null;
  }
}

export const datafenceProtocol: Protocol = {
  service: 'datafence',
  failure(kind, lang, detail) {
    const gw = ncpGateway(kind, lang, detail);
    if (gw) return gw;
    if (kind === 'notImplemented') return new ApiError(500, '10007', detail, detail);
    // idempotency: no Datafence operation declares a token (the generic parameter error if one did).
    // validation, malformed body, wrong content type: the service's "invalid request" code (§6.1).
    return new ApiError(400, '10001', t(lang, 'invalid.parameter'), detail);
  },
  render: (err) => renderNcpLegacy(err),
};

/** Stockade's own operations answer like Datafence: the NCP API Gateway envelope, code 10001 for bad input. */
export const stockadeProtocol: Protocol = { ...datafenceProtocol, service: 'stockade' };

const HTTP_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  501: 'Not Implemented',
};

export const dataflowProtocol: Protocol = {
  service: 'dataflow',
  failure(kind, lang, detail) {
    const gw = ncpGateway(kind, lang, detail);
    if (gw) return gw;
    if (kind === 'notImplemented') return new ApiError(501, 'not-implemented', detail, detail);
    return new ApiError(400, 'bad-parameter', detail, detail);
  },
  render(err, ctx) {
    if (err.layer === 'gateway') return renderNcpLegacy(err);
    // Problem details (dataflow.md §5.1). `type` is not documented; we use about:blank.
    return {
      status: err.status,
      headers: { 'content-type': 'application/problem+json' },
      body: JSON.stringify({
        type: 'about:blank',
        title: HTTP_TITLES[err.status] ?? 'Error',
        status: err.status,
        detail: err.details,
        instance: ctx.path,
        errorType: err.code,
      }),
    };
  },
};

export const cfsProtocol: Protocol = {
  service: 'cfs',
  failure(kind, _lang, detail, info) {
    switch (kind) {
      case 'authMissing':
      case 'forbidden':
        return new ApiError(403, 'AccessDenied', 'Access denied.', detail);
      case 'malformedBody':
        return new ApiError(400, 'MalformedJSON', 'The JSON you provided was not well-formed.', detail);
      case 'badUri':
        // cfs.md §4.1: "bad URI" (what the signature check answers for a path it cannot decode).
        return new ApiError(400, 'InvalidURI', 'Could not parse the specified URI.', detail);
      case 'badEncoding':
      case 'badRequest':
        // cfs.md §4.1: "bad body encoding"; BCE has no code of its own for a request it cannot parse.
        return new ApiError(400, 'InvalidHTTPRequest', 'There was an error in the body of your HTTP request.', detail);
      case 'unsupportedMediaType':
        return new ApiError(400, 'InvalidHTTPRequest', 'There was an error in the body of your HTTP request.', detail);
      case 'bodyTooLarge':
        // Not documented for CFS; BCE's generic "error in the body" code with status 413.
        return new ApiError(413, 'InvalidHTTPRequest', 'There was an error in the body of your HTTP request.', detail);
      case 'notImplemented':
        return new ApiError(501, 'NotImplemented', detail, detail);
      case 'routeNotFound':
        // The CFS error page's own example: NoSuchKey for a resource path that does not exist.
        return new ApiError(404, 'NoSuchKey', 'The resource you requested does not exist', detail);
      case 'internal':
        return new ApiError(500, 'InternalError', 'We encountered an internal error. Please try again.', detail);
      case 'idempotencyMismatch':
        return new ApiError(403, 'IdempotentParameterMismatch', detail, detail);
      case 'idempotencyInFlight':
        return new ApiError(409, 'MultiRequestConflict', detail, detail);
      case 'validation':
        // BCE names the parameter: missing, invalid, or the operation's own code for that field.
        if (info?.missing) return new ApiError(400, 'MissingParameter', `The parameter ${info.field} is required.`, detail);
        if (info?.invalidAs) return new ApiError(info.invalidAs.status, info.invalidAs.code, `The parameter ${info.field} is invalid.`, detail);
        if (info) return new ApiError(400, 'InvalidParameter', `The parameter ${info.field} is invalid.`, detail);
        return new ApiError(
          400,
          'InappropriateJSON',
          'The JSON you provided was well-formed and valid, but not appropriate for this operation.',
          detail,
        );
    }
  },
  render(err, ctx) {
    const message = err.details && err.details !== err.message ? `${err.message} ${err.details}` : err.message;
    return {
      status: err.status,
      headers: { 'content-type': JSON_TYPE, 'x-bce-request-id': ctx.requestId },
      body: JSON.stringify({ requestId: ctx.requestId, code: err.code, message }),
    };
  },
};

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const s3Protocol: Protocol = {
  service: 's3',
  failure(kind, _lang, detail) {
    switch (kind) {
      case 'authMissing':
      case 'forbidden':
        return new ApiError(403, 'AccessDenied', 'Access Denied', detail);
      case 'notImplemented':
        return new ApiError(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented', detail);
      case 'badUri':
        return new ApiError(400, 'InvalidURI', "Couldn't parse the specified URI.", detail);
      case 'badRequest':
        return new ApiError(400, 'InvalidRequest', 'Invalid Request', detail);
      case 'bodyTooLarge':
        return new ApiError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.', detail);
      case 'routeNotFound':
        return new ApiError(400, 'InvalidRequest', 'Invalid Request', detail);
      case 'internal':
        return new ApiError(500, 'InternalError', 'We encountered an internal error. Please try again.', detail);
      default:
        return new ApiError(400, 'InvalidArgument', detail, detail);
    }
  },
  render(err, ctx) {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message>` +
      `<Resource>${xmlEscape(ctx.path)}</Resource><RequestId>${ctx.requestId}</RequestId></Error>`;
    return { status: err.status, headers: { 'content-type': 'application/xml', 'x-amz-request-id': ctx.requestId }, body };
  },
};

export const PROTOCOLS: Record<ServiceName, Protocol> = {
  datafence: datafenceProtocol,
  dataflow: dataflowProtocol,
  cfs: cfsProtocol,
  s3: s3Protocol,
  stockade: stockadeProtocol,
};
