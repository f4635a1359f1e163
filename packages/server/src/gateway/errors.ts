/**
 * Errors a handler or the gateway raises. An ApiError already carries the service's own code and
 * HTTP status; each service's protocol (protocols.ts) renders it in that service's envelope.
 */
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
  | 'malformedBody' // body is not JSON
  | 'unsupportedMediaType' // body with a non-JSON content type
  | 'bodyTooLarge'
  | 'notImplemented'
  | 'forbidden' // authenticated, but the user's role does not allow the operation
  | 'routeNotFound'
  | 'internal';
