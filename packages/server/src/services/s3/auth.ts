/**
 * The contract between the S3 service and its SigV4 verifier (sigv4.ts) and body decoder
 * (chunked.ts). Implementations live in those files.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ResolvedKey } from '../../iam/iam.js';
import type { ChecksumAlgorithm } from './checksums.js';

/** How the request body's integrity is declared (`x-amz-content-sha256`). */
export type PayloadMode =
  | { kind: 'none' } // no body expected or allowed (GET, HEAD, DELETE without body)
  | { kind: 'sha256'; hex: string } // the whole body's SHA-256 (verified while streaming)
  | { kind: 'unsigned' } // UNSIGNED-PAYLOAD (also presigned URLs)
  | { kind: 'streaming-unsigned-trailer'; trailer: string[] } // STREAMING-UNSIGNED-PAYLOAD-TRAILER
  | {
      kind: 'streaming-signed'; // STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]
      trailer: string[];
      seedSignature: string;
      signingKey: Uint8Array;
      amzDate: string;
      scope: string;
    };

export interface VerifiedRequest {
  key: ResolvedKey;
  region: string;
  presigned: boolean;
  payload: PayloadMode;
}

export interface SigV4Input {
  method: string;
  rawPath: string;
  rawQuery: string | null;
  headers: IncomingHttpHeaders;
}

/** An S3 error the verifier or decoder raises: rendered as S3 XML by the service. */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra XML elements for the error body (e.g. `{ StringToSign: … }`), values are text. */
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

/**
 * The decoded body of a request: plain bytes, whatever the wire encoding was (aws-chunked etc.).
 * `done` resolves after the last byte once every declared hash, chunk signature and trailing
 * checksum was verified, and rejects with an S3Error (`XAmzContentSHA256Mismatch`, `BadDigest`,
 * `SignatureDoesNotMatch`, `InvalidRequest`, `IncompleteBody`…) otherwise — so a caller that
 * stores the bytes commits its metadata only after `done` resolves.
 */
export interface DecodedBody {
  stream: Readable;
  /** Length of the decoded content when known up front (`content-length` or `x-amz-decoded-content-length`). */
  length: number | null;
  /** Checksums the client declared (header or trailer), by algorithm name (`crc32`, `crc32c`, `sha1`, `sha256`), base64. */
  checksums: () => Record<string, string>;
  /**
   * The checksum algorithms the decoder computes itself (to verify the declared values): once
   * `done` resolved, `computed()` holds their values, so a consumer need not hash the bytes again.
   */
  computes: readonly ChecksumAlgorithm[];
  computed: () => Partial<Record<ChecksumAlgorithm, string>>;
  done: Promise<void>;
}
