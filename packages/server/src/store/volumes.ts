/**
 * A volume: a directory tree with a byte quota, addressed by client-supplied relative paths
 * (NAS file systems, box work areas, export review areas).
 *
 * Client paths are untrusted. `resolve` accepts only plain relative paths of `/`-separated
 * segments and refuses any path whose existing components include a symlink, so a path can never
 * name something outside the root. Files are opened with O_NOFOLLOW as a second line of defence.
 *
 * Writes stream to a temp file under `<root>/.stockade-tmp/` (a reserved name clients cannot use),
 * are fsynced and renamed into place: a reader never sees a partial file and a failed write leaves
 * nothing behind. The quota is checked while streaming (to stop early) and again, exactly, when
 * the file is committed; commits and removals are serialised per Volume object, which keeps the
 * cached usage exact for everything this process does. Changes made to the directory by anyone
 * else are seen after `invalidate()` (the next `usage()` walks the tree again).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { chunksOf, fsyncDir } from './fsutil.js';

export const VOLUME_TMP_DIR = '.stockade-tmp';
export const MAX_SEGMENT_BYTES = 255;
export const MAX_PATH_BYTES = 1024;

export type InvalidPathReason =
  | 'not-a-string'
  | 'empty'
  | 'absolute'
  | 'backslash'
  | 'nul'
  | 'empty-segment'
  | 'dot-segment'
  | 'segment-too-long'
  | 'path-too-long'
  | 'reserved'
  | 'symlink'
  | 'not-a-directory'
  | 'is-a-directory';

const REASON_TEXT: Record<InvalidPathReason, string> = {
  'not-a-string': 'path must be a string',
  empty: 'path is empty',
  absolute: 'absolute paths are not allowed',
  backslash: 'backslashes are not allowed',
  nul: 'NUL bytes are not allowed',
  'empty-segment': 'empty path segments are not allowed',
  'dot-segment': '"." and ".." segments are not allowed',
  'segment-too-long': `a path segment is longer than ${MAX_SEGMENT_BYTES} bytes`,
  'path-too-long': `path is longer than ${MAX_PATH_BYTES} bytes`,
  reserved: `"${VOLUME_TMP_DIR}" is reserved`,
  symlink: 'path goes through a symbolic link',
  'not-a-directory': 'a parent of the path is not a directory',
  'is-a-directory': 'path is a directory',
};

export class InvalidPathError extends Error {
  readonly code = 'InvalidPath';
  constructor(
    readonly clientPath: string,
    readonly reason: InvalidPathReason,
  ) {
    super(`invalid path ${JSON.stringify(String(clientPath).slice(0, 200))}: ${REASON_TEXT[reason]}`);
    this.name = 'InvalidPathError';
  }
}

export class QuotaExceededError extends Error {
  readonly code = 'QuotaExceeded';
  constructor(
    readonly quotaBytes: number,
    /** Usage before the write (excluding a file the write would replace). */
    readonly usageBytes: number,
    /** Bytes of the refused write seen so far. */
    readonly incomingBytes: number,
  ) {
    super(`volume quota of ${quotaBytes} bytes exceeded (in use ${usageBytes}, incoming at least ${incomingBytes})`);
    this.name = 'QuotaExceededError';
  }
}

export interface VolumeStat {
  type: 'file' | 'directory';
  size: number;
  mtimeMs: number;
}

export interface VolumeEntry {
  /** Client path, `/`-separated, relative to the root. */
  path: string;
  size: number;
  mtimeMs: number;
}

function code(err: unknown): string | undefined {
  return (err as { code?: string }).code;
}



const READ_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW;

export class Volume {
  readonly root: string;
  private readonly tmpDir: string;
  private usageCache: number | null = null;
  private usageWalk: { gen: number; total: Promise<number> } | null = null;
  /** Bumped on every change; a walk that raced a change does not fill the cache. */
  private generation = 0;
  /** Bytes being streamed by unfinished writes (early quota check). */
  private inflight = 0;
  private lock: Promise<void> = Promise.resolve();

  constructor(
    root: string,
    readonly quotaBytes: number,
  ) {
    fs.mkdirSync(root, { recursive: true });
    this.root = fs.realpathSync(root);
    this.tmpDir = path.join(this.root, VOLUME_TMP_DIR);
  }

  /**
   * Maps a client path to an absolute path inside the root, or throws `InvalidPathError`.
   * Components that already exist are lstat'ed: a symlink anywhere is refused.
   */
  resolve(clientPath: string): string {
    if (typeof clientPath !== 'string') throw new InvalidPathError(String(clientPath), 'not-a-string');
    const segments = this.checkSyntax(clientPath);
    let cur = this.root;
    for (let i = 0; i < segments.length; i++) {
      cur = path.join(cur, segments[i]!);
      const st = fs.lstatSync(cur, { throwIfNoEntry: false });
      if (!st) break; // the rest does not exist yet
      if (st.isSymbolicLink()) throw new InvalidPathError(clientPath, 'symlink');
      if (i < segments.length - 1 && !st.isDirectory()) throw new InvalidPathError(clientPath, 'not-a-directory');
    }
    const full = path.join(this.root, ...segments);
    if (!full.startsWith(this.root + path.sep)) throw new InvalidPathError(clientPath, 'dot-segment');
    return full;
  }

  private checkSyntax(clientPath: string): string[] {
    if (clientPath === '') throw new InvalidPathError(clientPath, 'empty');
    if (clientPath.includes('\0')) throw new InvalidPathError(clientPath, 'nul');
    if (clientPath.includes('\\')) throw new InvalidPathError(clientPath, 'backslash');
    if (clientPath.startsWith('/')) throw new InvalidPathError(clientPath, 'absolute');
    if (Buffer.byteLength(clientPath, 'utf8') > MAX_PATH_BYTES) throw new InvalidPathError(clientPath, 'path-too-long');
    const segments = clientPath.split('/');
    for (const s of segments) {
      if (s === '') throw new InvalidPathError(clientPath, 'empty-segment');
      if (s === '.' || s === '..') throw new InvalidPathError(clientPath, 'dot-segment');
      if (Buffer.byteLength(s, 'utf8') > MAX_SEGMENT_BYTES) throw new InvalidPathError(clientPath, 'segment-too-long');
    }
    if (segments[0] === VOLUME_TMP_DIR) throw new InvalidPathError(clientPath, 'reserved');
    return segments;
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Size of the regular file at `full`, 0 if absent; refuses a directory or symlink. */
  private async existingSize(clientPath: string, full: string): Promise<number> {
    try {
      const st = await fsp.lstat(full);
      if (st.isDirectory()) throw new InvalidPathError(clientPath, 'is-a-directory');
      if (st.isSymbolicLink()) throw new InvalidPathError(clientPath, 'symlink');
      return st.isFile() ? st.size : 0;
    } catch (err) {
      if (code(err) === 'ENOENT') return 0;
      throw err;
    }
  }

  private async ensureTmpDir(): Promise<void> {
    await fsp.mkdir(this.tmpDir, { recursive: true });
    const st = await fsp.lstat(this.tmpDir);
    if (!st.isDirectory()) throw new Error(`${this.tmpDir} is not a directory`);
  }

  /**
   * Writes (creates or replaces) a file from a stream. Parent directories are created. Throws
   * `QuotaExceededError` (nothing is left behind) when the volume would exceed its quota; the
   * source stream is not destroyed. Returns the number of bytes written.
   */
  async write(clientPath: string, stream: Readable | AsyncIterable<Uint8Array>): Promise<{ size: number }> {
    const target = this.resolve(clientPath);
    const replaced = await this.existingSize(clientPath, target);
    const base = (await this.usage()) - replaced;
    await this.ensureTmpDir();
    const tmp = path.join(this.tmpDir, randomBytes(12).toString('hex'));
    let written = 0;
    let reserved = 0; // this write's share of `inflight`
    const release = () => {
      this.inflight -= reserved;
      reserved = 0;
    };
    let fh: fsp.FileHandle | null = await fsp.open(tmp, 'wx');
    try {
      for await (const chunk of chunksOf(stream)) {
        written += chunk.byteLength;
        reserved += chunk.byteLength;
        this.inflight += chunk.byteLength;
        if (base + this.inflight > this.quotaBytes) throw new QuotaExceededError(this.quotaBytes, base, written);
        let off = 0;
        while (off < chunk.byteLength) {
          const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
          off += bytesWritten;
        }
      }
      await fh.sync();
      await fh.close();
      fh = null;
      await this.exclusive(async () => {
        // Exact check: all of this process's commits and removals are serialised here.
        const full = this.resolve(clientPath);
        const now = (await this.usage()) - (await this.existingSize(clientPath, full));
        if (now + written > this.quotaBytes) throw new QuotaExceededError(this.quotaBytes, now, written);
        const dir = path.dirname(full);
        await fsp.mkdir(dir, { recursive: true });
        this.resolve(clientPath); // re-check: nothing on the way became a symlink
        this.generation++;
        await fsp.rename(tmp, full);
        this.usageCache = now + written;
        release(); // counted by usage now
        await fsyncDir(dir);
      });
      return { size: written };
    } catch (err) {
      release(); // at once, so a concurrent writer is not refused for bytes that will never land
      if (fh) await fh.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    } finally {
      release();
    }
  }

  /** Reads a file. A missing file errors the stream (ENOENT). */
  read(clientPath: string, range?: { start: number; end: number }): Readable {
    const full = this.resolve(clientPath);
    return fs.createReadStream(full, {
      flags: READ_FLAGS as unknown as string, // numeric flags are accepted at run time
      ...(range ? { start: range.start, end: range.end } : {}),
    });
  }

  async stat(clientPath: string): Promise<VolumeStat | null> {
    const full = this.resolve(clientPath);
    try {
      const st = await fsp.lstat(full);
      if (st.isDirectory()) return { type: 'directory', size: 0, mtimeMs: st.mtimeMs };
      if (st.isFile()) return { type: 'file', size: st.size, mtimeMs: st.mtimeMs };
      return null;
    } catch (err) {
      if (code(err) === 'ENOENT') return null;
      throw err;
    }
  }

  /** Removes a file, or a directory with everything in it. Returns false if nothing was there. */
  async remove(clientPath: string): Promise<boolean> {
    return this.exclusive(async () => {
      const full = this.resolve(clientPath);
      let st: fs.Stats;
      try {
        st = await fsp.lstat(full);
      } catch (err) {
        if (code(err) === 'ENOENT') return false;
        throw err;
      }
      this.generation++;
      if (st.isDirectory()) {
        this.usageCache = null;
        await fsp.rm(full, { recursive: true, force: true });
      } else {
        await fsp.unlink(full);
        if (this.usageCache !== null && st.isFile()) this.usageCache -= st.size;
      }
      return true;
    });
  }

  /**
   * Regular files whose client path starts with `prefix` (a string prefix, like an object
   * listing), sorted by path. Symlinks are never followed.
   */
  async list(prefix = ''): Promise<VolumeEntry[]> {
    let start = this.root;
    let startRel = '';
    const slash = prefix.lastIndexOf('/');
    if (slash > 0) {
      startRel = prefix.slice(0, slash);
      start = this.resolve(startRel);
    } else if (prefix !== '' && (prefix.includes('\0') || prefix.startsWith('/'))) {
      this.checkSyntax(prefix);
    }
    const out: VolumeEntry[] = [];
    for await (const e of this.walk(start, startRel)) {
      if (e.path.startsWith(prefix)) out.push(e);
    }
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return out;
  }

  private async *walk(dir: string, rel: string): AsyncIterable<VolumeEntry> {
    let dirents: fs.Dirent[];
    try {
      dirents = await fsp.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return;
      throw err;
    }
    for (const d of dirents) {
      if (rel === '' && d.name === VOLUME_TMP_DIR) continue;
      const childRel = rel === '' ? d.name : `${rel}/${d.name}`;
      const child = path.join(dir, d.name);
      if (d.isDirectory()) {
        yield* this.walk(child, childRel);
      } else if (d.isFile()) {
        try {
          const st = await fsp.lstat(child);
          if (st.isFile()) yield { path: childRel, size: st.size, mtimeMs: st.mtimeMs };
        } catch (err) {
          if (code(err) !== 'ENOENT') throw err;
        }
      }
    }
  }

  /** Sum of the sizes of all regular files (cached; see the module comment). */
  async usage(): Promise<number> {
    if (this.usageCache !== null) return this.usageCache;
    // Share a walk in progress only if nothing changed since it started.
    if (this.usageWalk && this.usageWalk.gen === this.generation) return this.usageWalk.total;
    const walk = {
      gen: this.generation,
      total: (async () => {
        let total = 0;
        for await (const e of this.walk(this.root, '')) total += e.size;
        return total;
      })(),
    };
    this.usageWalk = walk;
    try {
      const total = await walk.total;
      if (this.generation === walk.gen && this.usageCache === null) this.usageCache = total;
      return total;
    } finally {
      if (this.usageWalk === walk) this.usageWalk = null;
    }
  }

  /** Forgets the cached usage (after changes made outside this object). */
  invalidate(): void {
    this.generation++;
    this.usageCache = null;
  }
}
