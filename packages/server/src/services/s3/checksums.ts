/**
 * The S3 flexible-checksum algorithms (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256), computed
 * incrementally so a body can be checked while it streams. CRC32 is zlib's; CRC32C and CRC64NVME
 * are table-driven (slice-by-8) here. Values travel as the base64 of the big-endian digest, as in
 * the `x-amz-checksum-*` headers.
 */
import { createHash, type Hash } from 'node:crypto';
import zlib from 'node:zlib';

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** Digest length in bytes, by algorithm. */
export const CHECKSUM_BYTES: Record<ChecksumAlgorithm, number> = {
  crc32: 4,
  crc32c: 4,
  crc64nvme: 8,
  sha1: 20,
  sha256: 32,
};

/** The name S3 uses in messages and in `x-amz-sdk-checksum-algorithm` (`CRC32`, `CRC64NVME`…). */
export const checksumDisplayName = (algorithm: ChecksumAlgorithm): string => algorithm.toUpperCase();

export function isChecksumAlgorithm(name: string): name is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name);
}

/* ---------------------------------------------------------------- CRC32C (Castagnoli) --- */

const CRC32C_POLY = 0x82f63b78; // reflected 0x1EDC6F41

/** Slice-by-8 tables: T[k][b] at offset k*256+b. */
const CRC32C_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n] as number;
    for (let k = 1; k < 8; k++) {
      c = (t[c & 0xff] as number) ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
})();

/**
 * CRC-32C of `data`, continuing from `previous` (the value returned for the bytes before it;
 * 0 to start).
 */
export function crc32c(data: Uint8Array, previous = 0): number {
  const t = CRC32C_TABLE;
  let crc = ~previous >>> 0;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const lo = crc ^ ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24));
    const hi = (data[i + 4] as number) | ((data[i + 5] as number) << 8) | ((data[i + 6] as number) << 16) | ((data[i + 7] as number) << 24);
    crc =
      (t[7 * 256 + (lo & 0xff)] as number) ^
      (t[6 * 256 + ((lo >>> 8) & 0xff)] as number) ^
      (t[5 * 256 + ((lo >>> 16) & 0xff)] as number) ^
      (t[4 * 256 + (lo >>> 24)] as number) ^
      (t[3 * 256 + (hi & 0xff)] as number) ^
      (t[2 * 256 + ((hi >>> 8) & 0xff)] as number) ^
      (t[256 + ((hi >>> 16) & 0xff)] as number) ^
      (t[hi >>> 24] as number);
    i += 8;
  }
  while (i < n) crc = (t[(crc ^ (data[i++] as number)) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}

/* ---------------------------------------------------------------------- CRC64/NVME --- */

const CRC64_POLY = 0x9a6c9329ac4bc9b5n; // reflected 0xAD93D23594C93659

/** Slice-by-8 tables split into 32-bit halves: T[k][b] at offset k*256+b. */
const [CRC64_HI, CRC64_LO]: [Uint32Array, Uint32Array] = (() => {
  const hi = new Uint32Array(8 * 256);
  const lo = new Uint32Array(8 * 256);
  const t0: bigint[] = [];
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ CRC64_POLY : c >> 1n;
    t0.push(c);
  }
  for (let n = 0; n < 256; n++) {
    let c = t0[n] as bigint;
    for (let k = 0; k < 8; k++) {
      if (k > 0) c = (t0[Number(c & 0xffn)] as bigint) ^ (c >> 8n);
      hi[k * 256 + n] = Number(c >> 32n);
      lo[k * 256 + n] = Number(c & 0xffffffffn);
    }
  }
  return [hi, lo];
})();

/** CRC-64/NVME state as two unsigned 32-bit halves (pre-inversion), continuing across updates. */
export class Crc64Nvme {
  private hi = 0xffffffff;
  private lo = 0xffffffff;

  update(data: Uint8Array): this {
    const TH = CRC64_HI;
    const TL = CRC64_LO;
    let hi = this.hi;
    let lo = this.lo;
    let i = 0;
    const n = data.length;
    const end8 = n - (n % 8);
    while (i < end8) {
      const a = lo ^ ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24));
      const b = hi ^ ((data[i + 4] as number) | ((data[i + 5] as number) << 8) | ((data[i + 6] as number) << 16) | ((data[i + 7] as number) << 24));
      const i0 = 7 * 256 + (a & 0xff);
      const i1 = 6 * 256 + ((a >>> 8) & 0xff);
      const i2 = 5 * 256 + ((a >>> 16) & 0xff);
      const i3 = 4 * 256 + (a >>> 24);
      const i4 = 3 * 256 + (b & 0xff);
      const i5 = 2 * 256 + ((b >>> 8) & 0xff);
      const i6 = 256 + ((b >>> 16) & 0xff);
      const i7 = b >>> 24;
      hi = (TH[i0] as number) ^ (TH[i1] as number) ^ (TH[i2] as number) ^ (TH[i3] as number) ^ (TH[i4] as number) ^ (TH[i5] as number) ^ (TH[i6] as number) ^ (TH[i7] as number);
      lo = (TL[i0] as number) ^ (TL[i1] as number) ^ (TL[i2] as number) ^ (TL[i3] as number) ^ (TL[i4] as number) ^ (TL[i5] as number) ^ (TL[i6] as number) ^ (TL[i7] as number);
      i += 8;
    }
    while (i < n) {
      const idx = (lo ^ (data[i++] as number)) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ (TL[idx] as number);
      hi = (hi >>> 8) ^ (TH[idx] as number);
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    return this;
  }

  /** The 8-byte big-endian digest. */
  digest(): Buffer {
    const out = Buffer.alloc(8);
    out.writeUInt32BE(~this.hi >>> 0, 0);
    out.writeUInt32BE(~this.lo >>> 0, 4);
    return out;
  }
}

/** CRC-64/NVME of `data` as a bigint (test vectors are usually given this way). */
export function crc64nvme(data: Uint8Array): bigint {
  return new Crc64Nvme().update(data).digest().readBigUInt64BE(0);
}

/* ------------------------------------------------------------------ incremental API --- */

/** One algorithm's running digest. */
export interface Checksummer {
  update(data: Uint8Array): void;
  /** The big-endian digest bytes (call once, after the last update). */
  digest(): Buffer;
}

function crc32Digest(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0, 0);
  return out;
}

class Crc32Summer implements Checksummer {
  private value = 0;
  constructor(private readonly fn: (data: Uint8Array, previous: number) => number) {}
  update(data: Uint8Array): void {
    this.value = this.fn(data, this.value);
  }
  digest(): Buffer {
    return crc32Digest(this.value);
  }
}

class HashSummer implements Checksummer {
  private readonly hash: Hash;
  constructor(algorithm: 'sha1' | 'sha256') {
    this.hash = createHash(algorithm);
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

export function createChecksum(algorithm: ChecksumAlgorithm): Checksummer {
  switch (algorithm) {
    case 'crc32':
      return new Crc32Summer((d, p) => zlib.crc32(d, p));
    case 'crc32c':
      return new Crc32Summer(crc32c);
    case 'crc64nvme':
      return new Crc64Nvme();
    case 'sha1':
    case 'sha256':
      return new HashSummer(algorithm);
  }
}

/** Several algorithms over the same bytes; `digest()` gives base64 values by algorithm. */
export interface ChecksumSet {
  readonly algorithms: readonly ChecksumAlgorithm[];
  update(data: Uint8Array): void;
  digest(): Partial<Record<ChecksumAlgorithm, string>>;
}

export function computeChecksums(algorithms: Iterable<ChecksumAlgorithm>): ChecksumSet {
  const list = [...new Set(algorithms)];
  const summers = list.map((a) => [a, createChecksum(a)] as const);
  let result: Partial<Record<ChecksumAlgorithm, string>> | undefined;
  return {
    algorithms: list,
    update(data) {
      for (const [, s] of summers) s.update(data);
    },
    digest() {
      if (!result) {
        result = {};
        for (const [a, s] of summers) result[a] = s.digest().toString('base64');
      }
      return result;
    },
  };
}

/** The base64 checksum of a whole buffer. */
export function checksumOf(algorithm: ChecksumAlgorithm, data: Uint8Array): string {
  const s = createChecksum(algorithm);
  s.update(data);
  return s.digest().toString('base64');
}
