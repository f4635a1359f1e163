import type { ServiceName } from '../ops/types.js';

export interface StockadeApiErrorInit {
  status: number;
  service: ServiceName;
  /** The operation's client method name or vendor name, when known. */
  operation?: string;
  code: string | undefined;
  message: string;
  details?: string | undefined;
  requestId?: string | undefined;
  body: unknown;
}

/**
 * A non-2xx answer of a service. `code` is the service's own error code:
 * Datafence and the NCP API gateway → `error.errorCode`; Data Flow → `errorType` (or the
 * gateway's `error.errorCode`); CFS → `code`.
 */
export class StockadeApiError extends Error {
  override readonly name = 'StockadeApiError';
  readonly status: number;
  readonly service: ServiceName;
  readonly operation: string | undefined;
  readonly code: string | undefined;
  readonly details: string | undefined;
  readonly requestId: string | undefined;
  /** The parsed response body (or its raw text when it was not JSON; undefined when empty). */
  readonly body: unknown;

  constructor(init: StockadeApiErrorInit) {
    super(init.message);
    this.status = init.status;
    this.service = init.service;
    this.operation = init.operation;
    this.code = init.code;
    this.details = init.details;
    this.requestId = init.requestId;
    this.body = init.body;
  }
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function rec(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Reads code / message / details / requestId out of a service's error body. */
export function parseErrorEnvelope(
  service: ServiceName,
  status: number,
  body: unknown,
): { code: string | undefined; message: string; details: string | undefined; requestId: string | undefined } {
  const b = rec(body);
  const gateway = rec(b?.['error']);
  let code: string | undefined;
  let message: string | undefined;
  let details: string | undefined;
  if (service === 'dataflow' && b && b['errorType'] !== undefined) {
    code = str(b['errorType']);
    details = str(b['detail']);
    message = details ?? str(b['title']);
  } else if (gateway) {
    code = str(gateway['errorCode']);
    message = str(gateway['message']);
    details = str(gateway['details']);
  } else if (b) {
    // BCE / S3-style `{requestId, code, message}`, or an unknown shape.
    code = str(b['code']) ?? str(b['errorType']);
    message = str(b['message']) ?? str(b['detail']) ?? str(b['title']);
  }
  const requestId = b ? str(b['requestId']) : undefined;
  return {
    code,
    message: message ?? (typeof body === 'string' && body !== '' ? body : `HTTP ${status}`),
    details,
    requestId,
  };
}
