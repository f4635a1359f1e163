/** HTTP facts the gateway and raw services share. */
import type { IncomingMessage } from 'node:http';

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
