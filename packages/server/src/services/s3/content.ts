/**
 * Object content in the blob store: writing a stream (MD5 for the ETag and the requested
 * checksums computed on the fly, never buffered whole), reading an object's blobs in sequence
 * with a byte range across blob boundaries, and deleting replaced content after its metadata
 * commit — not while a reader in this process still streams it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { ContentTooLargeError, type BlobInfo, type BlobStore } from '../../store/blobs.js';
import { chunksOf, isEnoent } from '../../store/fsutil.js';
import { S3Error } from './auth.js';
import { computeChecksums, type ChecksumAlgorithm } from './checksums.js';

/** Largest single PUT or part: 5 GiB. */
export const MAX_PUT_BYTES = 5 * 1024 * 1024 * 1024;

export interface StoredContent {
  blob: BlobInfo;
  md5: Buffer;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** A piece of an object: an inclusive byte range of one blob. */
export interface Segment {
  blobId: string;
  start: number;
  end: number;
}

/** Opening an object's content found a blob gone: the object was replaced meanwhile; read it again. */
export class ContentGone extends Error {}

/** Segments (streams opened up front) beyond this many are opened as the reader gets to them. */
const EAGER_OPEN = 64;

/** Content up to this many bytes is read whole (`readSmall`) instead of streamed. */
export const SMALL_READ_BYTES = 64 * 1024;

export class ObjectContent {
  private readonly pins = new Map<string, number>();
  private readonly deferred = new Set<string>();

  constructor(
    readonly blobs: BlobStore,
    private readonly logger: Logger,
  ) {}

  /** Writes a stream under a fresh blob id; resolves once durable. */
  async store(source: Readable | AsyncIterable<Uint8Array>, algorithms: Iterable<ChecksumAlgorithm>): Promise<StoredContent> {
    const md5 = createHash('md5');
    const sums = computeChecksums(algorithms);
    async function* tap(): AsyncIterable<Uint8Array> {
      for await (const c of chunksOf(source)) {
        md5.update(c);
        sums.update(c);
        yield c;
      }
    }
    try {
      const blob = await this.blobs.put(tap(), { maxBytes: MAX_PUT_BYTES });
      return { blob, md5: md5.digest(), checksums: sums.digest() };
    } catch (e) {
      if (e instanceof ContentTooLargeError) {
        throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
          MaxSizeAllowed: String(MAX_PUT_BYTES),
        });
      }
      throw e;
    }
  }

  /** Keeps blobs from being deleted by `discard` in this process until the returned function is called. */
  pin(ids: readonly string[]): () => void {
    for (const id of ids) this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of ids) {
        const n = (this.pins.get(id) ?? 1) - 1;
        if (n > 0) {
          this.pins.set(id, n);
          continue;
        }
        this.pins.delete(id);
        if (this.deferred.delete(id)) void this.remove(id);
      }
    };
  }

  /**
   * Deletes content whose rows are already gone (committed). Best effort: a file left behind is an
   * orphan that garbage collection removes.
   */
  async discard(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      if (this.pins.has(id)) this.deferred.add(id);
      else await this.remove(id);
    }
  }

  private async remove(id: string): Promise<void> {
    try {
      await this.blobs.delete(id);
    } catch (err) {
      this.logger.warn({ err, blob: id }, 'could not delete replaced object content; garbage collection will');
    }
  }

  /**
   * The segments' bytes in one buffer, read at once (synchronously, see `BlobStore.readSync`),
   * when the store can and they total at most SMALL_READ_BYTES; null otherwise: stream them with
   * `open`. Nothing else runs during the read, so a concurrent overwrite cannot delete the blobs
   * half-way: they are there (`ContentGone` otherwise) and need no pin.
   */
  readSmall(segments: readonly Segment[]): Buffer | null {
    const blobs = this.blobs;
    if (!blobs.readSync) return null;
    let total = 0;
    for (const s of segments) total += s.end - s.start + 1;
    if (total > SMALL_READ_BYTES) return null;
    try {
      if (segments.length === 1) {
        const s = segments[0] as Segment;
        return blobs.readSync(s.blobId, s);
      }
      return Buffer.concat(segments.map((s) => (blobs.readSync as NonNullable<BlobStore['readSync']>).call(blobs, s.blobId, s)));
    } catch (e) {
      if (isEnoent(e)) throw new ContentGone();
      throw e;
    }
  }

  /**
   * One stream over the segments in order. The first segments are opened before this resolves,
   * so a blob deleted by a concurrent overwrite shows up here (`ContentGone`), before any byte
   * was answered; open files stay readable after their deletion.
   */
  async open(segments: readonly Segment[], opts: { highWaterMark?: number } = {}): Promise<Readable> {
    const opened: Readable[] = [];
    try {
      for (const s of segments.slice(0, EAGER_OPEN)) {
        const r = this.blobs.open(s.blobId, { start: s.start, end: s.end }, opts);
        opened.push(r);
        if (r instanceof fs.ReadStream) await once(r, 'ready');
      }
    } catch (e) {
      for (const r of opened) r.destroy();
      if (isEnoent(e)) throw new ContentGone();
      throw e;
    }
    const blobs = this.blobs;
    async function* all(): AsyncIterable<Buffer> {
      let i = 0;
      try {
        for (; i < segments.length; i++) {
          const s = segments[i] as Segment;
          const r = opened[i] ?? blobs.open(s.blobId, { start: s.start, end: s.end }, opts);
          let n = 0;
          try {
            for await (const c of r as AsyncIterable<Buffer>) {
              n += c.length;
              yield c;
            }
          } finally {
            r.destroy();
          }
          // A short blob must not pass for a short object: the response would hang on its Content-Length.
          if (n !== s.end - s.start + 1) throw new Error(`blob ${s.blobId} is shorter than its recorded size`);
        }
      } finally {
        for (let j = i + 1; j < opened.length; j++) opened[j]?.destroy();
      }
    }
    const out = Readable.from(all(), { objectMode: false });
    // A reader that goes away before the generator started must still close the open files.
    out.once('close', () => {
      for (const r of opened) r.destroy();
    });
    return out;
  }
}

/**
 * The segments covering bytes `start..end` (inclusive) of an object made of blobs of the given
 * sizes, in order.
 */
export function segmentsFor(blobs: readonly { blobId: string; size: number }[], start: number, end: number): Segment[] {
  const out: Segment[] = [];
  let offset = 0;
  for (const b of blobs) {
    const first = offset;
    const last = offset + b.size - 1;
    offset += b.size;
    if (b.size === 0 || last < start || first > end) continue;
    out.push({ blobId: b.blobId, start: Math.max(start, first) - first, end: Math.min(end, last) - first });
  }
  return out;
}
