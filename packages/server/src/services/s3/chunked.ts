/**
 * Request-body decoding for the S3 API: plain bodies and `aws-chunked` framing (unsigned with
 * trailers, or with per-chunk SigV4 signatures and a signed trailer), with every integrity
 * declaration checked while the bytes stream: the `x-amz-content-sha256` hash, chunk and
 * trailer signatures, `x-amz-decoded-content-length`, `Content-MD5` and the flexible checksums
 * (`x-amz-checksum-*`, as headers or trailers). Memory stays bounded: data is passed on as it
 * arrives, only chunk-header and trailer lines are buffered (each at most MAX_LINE bytes).
 */
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, finished, type Readable, type TransformCallback } from 'node:stream';
import { S3Error, type DecodedBody, type PayloadMode } from './auth.js';
import {
  CHECKSUM_BYTES,
  checksumDisplayName,
  computeChecksums,
  isChecksumAlgorithm,
  type ChecksumAlgorithm,
  type ChecksumSet,
} from './checksums.js';
import { EMPTY_SHA256, STREAMING_SIGNED_TRAILER } from './sigv4.js';

export {
  computeChecksums,
  checksumOf,
  createChecksum,
  isChecksumAlgorithm,
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  type ChecksumSet,
} from './checksums.js';

/** Longest chunk-header or trailer line accepted, CRLF excluded. */
export const MAX_LINE = 4096;
/** Most trailer lines accepted. */
const MAX_TRAILER_LINES = 32;

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.';
const INCOMPLETE = 'You did not provide the number of bytes specified by the Content-Length HTTP header.';
const MALFORMED_TRAILER =
  'The request contained trailing data that was not well-formed or did not conform to our published schema.';

function headerValue(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

const incomplete = (message = INCOMPLETE) => new S3Error(400, 'IncompleteBody', message);
const badFraming = (detail: string) => new S3Error(400, 'InvalidRequest', `Invalid aws-chunked encoding: ${detail}`);
const malformedTrailer = () => new S3Error(400, 'MalformedTrailerError', MALFORMED_TRAILER);

function signatureMismatch(extra: Record<string, string> = {}): S3Error {
  return new S3Error(403, 'SignatureDoesNotMatch', SIGNATURE_MISMATCH, extra);
}

function badDigest(algorithm: ChecksumAlgorithm): S3Error {
  return new S3Error(400, 'BadDigest', `The ${checksumDisplayName(algorithm)} you specified did not match the calculated checksum.`);
}

/** A base64 value that decodes to exactly `bytes` bytes, canonical form. */
function isBase64Of(value: string, bytes: number): boolean {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return false;
  const decoded = Buffer.from(value, 'base64');
  return decoded.length === bytes && decoded.toString('base64') === value;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

function parseLength(value: string | undefined, name: string): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (!/^\d{1,15}$/.test(v)) {
    throw new S3Error(400, 'InvalidArgument', `${name} must be a non-negative integer.`, {
      ArgumentName: name,
      ArgumentValue: value,
    });
  }
  return Number(v);
}

/** The checksum algorithm named by an `x-amz-checksum-<alg>` header or trailer name, if any. */
function checksumHeaderAlgorithm(name: string): ChecksumAlgorithm | undefined {
  const m = /^x-amz-checksum-([a-z0-9]+)$/.exec(name.toLowerCase());
  return m?.[1] !== undefined && isChecksumAlgorithm(m[1]) ? m[1] : undefined;
}

/** Header names under `x-amz-checksum-` that are not checksum values. */
const CHECKSUM_NON_VALUE = new Set(['x-amz-checksum-type', 'x-amz-checksum-algorithm', 'x-amz-checksum-mode']);

interface Declarations {
  /** Checksums given as request headers, base64, validated. */
  headerChecksums: Map<ChecksumAlgorithm, string>;
  /** Checksum algorithms announced in `x-amz-trailer`. */
  trailerChecksums: Map<string, ChecksumAlgorithm>;
  /** Every trailer name announced. */
  trailerNames: string[];
  /** The algorithm of `x-amz-sdk-checksum-algorithm`, if given. */
  sdkAlgorithm: ChecksumAlgorithm | undefined;
  md5: string | undefined;
}

function readDeclarations(headers: IncomingHttpHeaders, payload: PayloadMode): Declarations {
  const headerChecksums = new Map<ChecksumAlgorithm, string>();
  for (const name of Object.keys(headers)) {
    if (!name.startsWith('x-amz-checksum-') || CHECKSUM_NON_VALUE.has(name)) continue;
    const algorithm = checksumHeaderAlgorithm(name);
    const value = headerValue(headers, name)?.trim() ?? '';
    if (!algorithm) {
      throw new S3Error(400, 'InvalidRequest', `The algorithm type you specified in ${name} header is invalid.`);
    }
    if (!isBase64Of(value, CHECKSUM_BYTES[algorithm])) {
      throw new S3Error(400, 'InvalidRequest', `Value for ${name} header is invalid.`);
    }
    headerChecksums.set(algorithm, value);
  }

  const trailerNames =
    payload.kind === 'streaming-unsigned-trailer' || payload.kind === 'streaming-signed' ? payload.trailer : [];
  const trailerChecksums = new Map<string, ChecksumAlgorithm>();
  for (const name of trailerNames) {
    const algorithm = checksumHeaderAlgorithm(name);
    if (!algorithm) {
      throw new S3Error(400, 'InvalidRequest', 'The value specified in the x-amz-trailer header is not supported');
    }
    trailerChecksums.set(name, algorithm);
  }

  const distinct = new Set([...headerChecksums.keys(), ...trailerChecksums.values()]);
  if (distinct.size > 1) {
    throw new S3Error(
      400,
      'InvalidRequest',
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  }

  let sdkAlgorithm: ChecksumAlgorithm | undefined;
  const sdk = headerValue(headers, 'x-amz-sdk-checksum-algorithm')?.trim().toLowerCase();
  if (sdk !== undefined) {
    if (!isChecksumAlgorithm(sdk)) {
      throw new S3Error(400, 'InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    }
    sdkAlgorithm = sdk;
  }

  const md5 = headerValue(headers, 'content-md5')?.trim();
  if (md5 !== undefined && !isBase64Of(md5, 16)) {
    throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
  }
  return { headerChecksums, trailerChecksums, trailerNames, sdkAlgorithm, md5 };
}

/** The checksums the decoder computes: the declared ones, else the one the SDK names. */
function decoderAlgorithms(decl: Declarations): Set<ChecksumAlgorithm> {
  const algorithms = new Set<ChecksumAlgorithm>([...decl.headerChecksums.keys(), ...decl.trailerChecksums.values()]);
  if (decl.sdkAlgorithm && algorithms.size === 0) algorithms.add(decl.sdkAlgorithm);
  return algorithms;
}

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'end';

interface ChunkSigning {
  key: Uint8Array;
  amzDate: string;
  scope: string;
  previous: string;
  /** The trailer carries its own signature (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`). */
  signedTrailer: boolean;
}

/** The decoding transform; `verified` runs once every check passed at the end. */
class BodyDecoder extends Transform {
  /** Decoded bytes so far. */
  count = 0;
  /** Trailer values received (lower-case name → value). */
  readonly trailers = new Map<string, string>();

  private readonly chunked: boolean;
  private readonly signing: ChunkSigning | null;
  private readonly sha256: Hash | null;
  private readonly md5: Hash | null;
  private readonly sums: ChecksumSet;

  // aws-chunked parser state
  private state: State = 'size';
  private line: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0;
  private crlfSeen = 0;
  private chunkHash: Hash | null = null;
  private chunkSignature = '';
  private lastChunk = false;
  private trailerLines: Array<[string, string]> = [];
  private trailerSignature: string | undefined;

  constructor(
    private readonly payload: PayloadMode,
    private readonly decl: Declarations,
    private readonly expectedLength: number | null,
    contentSha256Header: string | undefined,
    private readonly verified: (computed: Partial<Record<ChecksumAlgorithm, string>>) => void,
  ) {
    super();
    this.chunked = payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer';
    this.signing =
      payload.kind === 'streaming-signed'
        ? {
            key: payload.signingKey,
            amzDate: payload.amzDate,
            scope: payload.scope,
            previous: payload.seedSignature,
            signedTrailer: contentSha256Header === STREAMING_SIGNED_TRAILER,
          }
        : null;
    this.sha256 = payload.kind === 'sha256' ? createHash('sha256') : null;
    this.md5 = decl.md5 !== undefined ? createHash('md5') : null;
    this.sums = computeChecksums(decoderAlgorithms(decl));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      if (this.chunked) this.parse(chunk);
      else this.emitData(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.chunked) this.endOfFraming();
      this.verifyAll();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  /** Decoded content bytes: count, hash, pass on. */
  private emitData(data: Buffer): void {
    if (data.length === 0) return;
    this.count += data.length;
    if (this.expectedLength !== null && this.count > this.expectedLength) throw incomplete();
    this.sha256?.update(data);
    this.md5?.update(data);
    this.sums.update(data);
    this.chunkHash?.update(data);
    this.push(data);
  }

  private parse(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case 'size':
        case 'trailer': {
          const nl = buf.indexOf(0x0a, i);
          const end = nl < 0 ? buf.length : nl + 1;
          this.lineLength += end - i;
          if (this.lineLength > MAX_LINE + 2) throw this.state === 'size' ? badFraming('chunk header too long') : malformedTrailer();
          this.line.push(buf.subarray(i, end));
          i = end;
          if (nl >= 0) {
            const raw = Buffer.concat(this.line);
            this.line = [];
            this.lineLength = 0;
            if (raw.length < 2 || raw[raw.length - 2] !== 0x0d) {
              throw this.state === 'size' ? badFraming('line not terminated by CRLF') : malformedTrailer();
            }
            const text = raw.subarray(0, raw.length - 2).toString('latin1');
            if (this.state === 'size') this.chunkHeader(text);
            else this.trailerLine(text);
          }
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, buf.length - i);
          this.emitData(buf.subarray(i, i + take));
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.endOfChunkData();
          break;
        }
        case 'data-crlf': {
          const expected = this.crlfSeen === 0 ? 0x0d : 0x0a;
          if (buf[i] !== expected) throw badFraming('chunk data not followed by CRLF');
          i++;
          if (++this.crlfSeen === 2) {
            this.crlfSeen = 0;
            this.state = 'size';
          }
          break;
        }
        case 'end':
          throw badFraming('data after the final chunk');
      }
    }
  }

  private chunkHeader(text: string): void {
    const [sizeText = '', ...extensions] = text.split(';');
    if (!/^[0-9a-fA-F]{1,13}$/.test(sizeText.trim())) throw badFraming(`invalid chunk size "${sizeText.slice(0, 32)}"`);
    const size = parseInt(sizeText.trim(), 16);
    let signature: string | undefined;
    for (const ext of extensions) {
      const eq = ext.indexOf('=');
      const name = (eq < 0 ? ext : ext.slice(0, eq)).trim();
      if (name === 'chunk-signature') signature = ext.slice(eq + 1).trim();
    }
    if (this.signing) {
      if (signature === undefined || !/^[0-9a-f]{64}$/.test(signature)) throw signatureMismatch();
      this.chunkSignature = signature;
      this.chunkHash = createHash('sha256');
    }
    if (this.expectedLength !== null && this.count + size > this.expectedLength) throw incomplete();
    this.remaining = size;
    this.lastChunk = size === 0;
    this.state = 'data';
    if (size === 0) this.endOfChunkData();
  }

  private endOfChunkData(): void {
    if (this.signing && this.chunkHash) {
      const s = this.signing;
      const stringToSign = [
        'AWS4-HMAC-SHA256-PAYLOAD',
        s.amzDate,
        s.scope,
        s.previous,
        EMPTY_SHA256,
        this.chunkHash.digest('hex'),
      ].join('\n');
      this.chunkHash = null;
      const expected = createHmac('sha256', s.key).update(stringToSign).digest('hex');
      if (!safeEqual(expected, this.chunkSignature)) throw signatureMismatch({ StringToSign: stringToSign });
      s.previous = this.chunkSignature;
    }
    this.state = this.lastChunk ? 'trailer' : 'data-crlf';
  }

  private trailerLine(text: string): void {
    if (text === '') {
      this.endOfTrailer();
      this.state = 'end';
      return;
    }
    if (this.trailerSignature !== undefined) throw malformedTrailer(); // nothing may follow the signature
    const colon = text.indexOf(':');
    if (colon <= 0) throw malformedTrailer();
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature' && this.signing?.signedTrailer) {
      this.trailerSignature = value;
      return;
    }
    if (this.trailerLines.length >= MAX_TRAILER_LINES || this.trailers.has(name)) throw malformedTrailer();
    this.trailerLines.push([name, value]);
    this.trailers.set(name, value);
  }

  private endOfTrailer(): void {
    const s = this.signing;
    if (s?.signedTrailer) {
      if (this.trailerSignature === undefined || !/^[0-9a-f]{64}$/.test(this.trailerSignature)) throw signatureMismatch();
      const canonical = this.trailerLines.map(([n, v]) => `${n}:${v}\n`).join('');
      const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', s.amzDate, s.scope, s.previous, sha256Hex(canonical)].join('\n');
      const expected = createHmac('sha256', s.key).update(stringToSign).digest('hex');
      if (!safeEqual(expected, this.trailerSignature)) throw signatureMismatch({ StringToSign: stringToSign });
    }
    for (const name of this.decl.trailerNames) {
      if (!this.trailers.has(name)) throw malformedTrailer();
    }
  }

  /** The input ended: the framing must have been complete (a missing final empty line is tolerated). */
  private endOfFraming(): void {
    if (this.state === 'end') return;
    if (this.state === 'trailer' && this.lineLength === 0) {
      this.endOfTrailer();
      this.state = 'end';
      return;
    }
    throw incomplete();
  }

  private verifyAll(): void {
    if (this.expectedLength !== null && this.count !== this.expectedLength) throw incomplete();
    if (this.sha256 && this.payload.kind === 'sha256') {
      const computed = this.sha256.digest('hex');
      if (!safeEqual(computed, this.payload.hex)) {
        throw new S3Error(
          400,
          'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          { ClientComputedContentSHA256: this.payload.hex, S3ComputedContentSHA256: computed },
        );
      }
    }
    if (this.md5 && this.decl.md5 !== undefined) {
      const computed = this.md5.digest('base64');
      if (!safeEqual(computed, this.decl.md5)) {
        throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.', {
          ExpectedDigest: this.decl.md5,
          CalculatedDigest: computed,
        });
      }
    }
    const computed = this.sums.digest();
    for (const [algorithm, value] of this.decl.headerChecksums) {
      if (!safeEqual(computed[algorithm] ?? '', value)) throw badDigest(algorithm);
    }
    for (const [name, algorithm] of this.decl.trailerChecksums) {
      const value = this.trailers.get(name) ?? '';
      if (!isBase64Of(value, CHECKSUM_BYTES[algorithm])) {
        throw new S3Error(400, 'InvalidRequest', `Value for ${name} trailing header is invalid.`);
      }
      if (!safeEqual(computed[algorithm] ?? '', value)) throw badDigest(algorithm);
    }
    this.verified(computed);
  }
}

function asS3Error(err: unknown): S3Error {
  return err instanceof S3Error ? err : incomplete();
}

/**
 * Decode a request body per its verified payload mode (from verifySigV4; `none` is read like
 * `unsigned`). Header-level problems (an invalid Content-MD5 or checksum header, several
 * checksum algorithms, an unsupported trailer, a non-numeric length) throw an S3Error at once,
 * before any byte is read. Everything found while streaming errors `stream` and rejects `done`
 * with the same S3Error. The request is piped into the decoder and never destroyed here, so the
 * caller can still answer with the error.
 */
export function decodeBody(req: Readable, payload: PayloadMode, headers: IncomingHttpHeaders): DecodedBody {
  const decl = readDeclarations(headers, payload);
  const chunked = payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer';
  const length = chunked
    ? parseLength(headerValue(headers, 'x-amz-decoded-content-length'), 'x-amz-decoded-content-length')
    : parseLength(headerValue(headers, 'content-length'), 'content-length');

  let settled = false;
  let resolveDone!: () => void;
  let rejectDone!: (err: S3Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // The caller may learn of a failure from the stream and never await `done`: no unhandled rejection.
  done.catch(() => undefined);

  let computed: Partial<Record<ChecksumAlgorithm, string>> = {};
  const decoder = new BodyDecoder(payload, decl, length, headerValue(headers, 'x-amz-content-sha256')?.trim(), (c) => {
    computed = c;
  });
  decoder.on('finish', () => {
    if (settled) return;
    settled = true;
    resolveDone();
  });
  decoder.on('error', (err) => {
    if (settled) return;
    settled = true;
    rejectDone(asS3Error(err));
  });
  decoder.on('close', () => {
    if (settled) return;
    settled = true;
    rejectDone(incomplete());
  });

  finished(req, { writable: false }, (err) => {
    if (err && !decoder.destroyed) decoder.destroy(asS3Error(err));
  });
  req.pipe(decoder);

  const checksums = (): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [algorithm, value] of decl.headerChecksums) out[algorithm] = value;
    for (const [name, algorithm] of decl.trailerChecksums) {
      const value = decoder.trailers.get(name);
      if (value !== undefined) out[algorithm] = value;
    }
    // Requested by x-amz-sdk-checksum-algorithm without a value: what was computed, once done.
    if (decl.sdkAlgorithm && Object.keys(out).length === 0 && computed[decl.sdkAlgorithm] !== undefined) {
      out[decl.sdkAlgorithm] = computed[decl.sdkAlgorithm] as string;
    }
    return out;
  };

  return { stream: decoder, length, checksums, computes: [...decoderAlgorithms(decl)], computed: () => computed, done };
}
