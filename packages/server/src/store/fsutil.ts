/** File-system helpers shared by the blob store and volumes. */
import fsp from 'node:fs/promises';
import { Readable } from 'node:stream';

/** fsync a directory, so a rename or create in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function isEnoent(err: unknown): boolean {
  return (err as { code?: string }).code === 'ENOENT';
}

/** Bytes of a stream; a Readable is not destroyed when the consumer stops early (its owner decides). */
export async function* chunksOf(source: Readable | AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const it: AsyncIterable<unknown> =
    source instanceof Readable ? source.iterator({ destroyOnReturn: false }) : source;
  for await (const chunk of it) {
    if (typeof chunk === 'string') yield Buffer.from(chunk);
    else if (chunk instanceof Uint8Array) yield chunk;
    else throw new TypeError('content must be a stream of bytes');
  }
}
