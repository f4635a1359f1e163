/**
 * Volumes: directory trees with a byte quota, addressed by client-supplied relative paths (CFS file
 * systems, box NAS, …). The `volumes` table holds each one's quota and usage; the files live under
 * the volumes root (`<data>/volumes/<id>`, or `--volumes-dir`).
 *
 * Client paths are untrusted. `resolve` accepts only plain relative paths of `/`-separated
 * segments and refuses any path whose existing components include a symlink, so a path can never
 * name something outside the root. Files are opened with O_NOFOLLOW as a second line of defence.
 *
 * Writes stream to a temp file under `<root>/.stockade-tmp/` (a reserved name clients cannot use),
 * are fsynced and renamed into place: a reader never sees a partial file and a failed write leaves
 * nothing behind. The quota is checked while streaming against the row (to stop early), and
 * exactly when the file is committed: in the committing transaction, one conditional update
 * (`used_bytes + delta <= quota_bytes`) reserves the space, then the file is renamed into place,
 * then the transaction commits. Two writers, in one process or several, cannot overshoot the quota
 * together: the second update sees the first's bytes or waits for its row lock. The caller may give
 * its own commit (a task's `ctx.complete`) so that the file, its bytes and the caller's state change
 * commit together.
 *
 * Files written behind Stockade's back (over NFS, from inside a box) are counted when the tree is
 * measured (`VolumeStore.measure`: a walk that sets `used_bytes` and `measured_at`); a crash between
 * a rename and its commit is corrected the same way.
 *
 * Cluster mode: every process must see the same volumes root (shared storage). At start-up the
 * root holds a marker naming the database it belongs to (`checkRoot`); a process whose root does
 * not carry the database's marker refuses to start.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import type { Clock } from '../tasks/clock.js';
import type { Store } from './db.js';
import { chunksOf, fsyncDir } from './fsutil.js';
import { asDb, type CoreDatabase, type Executor } from './schema.js';

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

/**
 * The largest quota a volume takes: quotas are whole bytes in a 64-bit column. CFS documents
 * quotas up to 10 PB, beyond 2^53, where a JSON number is no longer exact to the byte; such a
 * quota is kept as the client's number was read.
 */
export const MAX_QUOTA_BYTES = 2 ** 62;

function validQuota(quotaBytes: number): boolean {
  return Number.isInteger(quotaBytes) && quotaBytes >= 0 && quotaBytes <= MAX_QUOTA_BYTES;
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

/** Volume ids name directories: lower-case letters, digits, `.`, `_`, `-`. */
export const VOLUME_ID = /^[a-z0-9][a-z0-9._-]{0,127}$/;

export class VolumeNotFoundError extends Error {
  constructor(readonly volumeId: string) {
    super(`no volume ${volumeId}`);
    this.name = 'VolumeNotFoundError';
  }
}

export interface VolumeRow {
  id: string;
  service: string;
  account_id: string;
  quota_bytes: number;
  used_bytes: number;
  measured_at: number | null;
  created_at: number;
}

/** How a write's space is committed: `apply(trx)` reserves the bytes and puts the file in place. */
export type CommitWrite = (apply: (trx: Executor) => Promise<void>) => Promise<unknown>;

/** Sum of the sizes of the regular files under `dir`, not following symlinks. */
async function walkTotal(dir: string, skipTop?: string): Promise<number> {
  let total = 0;
  let dirents: fs.Dirent[];
  try {
    dirents = await fsp.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return 0;
    throw err;
  }
  const files: string[] = [];
  for (const d of dirents) {
    if (d.name === skipTop) continue;
    const child = path.join(dir, d.name);
    if (d.isDirectory()) total += await walkTotal(child);
    else if (d.isFile()) files.push(child);
  }
  // lstat on the calling thread, a batch at a time, yielding in between: several times faster
  // than one thread-pool round trip per file, and the event loop is never held for long.
  for (let i = 0; i < files.length; i += WALK_BATCH) {
    for (const f of files.slice(i, i + WALK_BATCH)) total += fs.lstatSync(f, { throwIfNoEntry: false })?.size ?? 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return total;
}

const WALK_BATCH = 256;

/** The `volumes` rows and their directories. */
export class VolumeStore {
  readonly root: string;

  constructor(
    private readonly store: Store,
    root: string,
    private readonly clock: Clock,
  ) {
    this.root = path.resolve(root);
  }

  private db(e: Executor = this.store.db) {
    return asDb<CoreDatabase>(e);
  }

  dirOf(id: string): string {
    if (!VOLUME_ID.test(id)) throw new Error(`invalid volume id ${JSON.stringify(id)}`);
    return path.join(this.root, id);
  }

  /** Creates a volume's row (in the caller's transaction); its directory is made on first use. */
  async create(trx: Executor, v: { id: string; service: string; accountId: string; quotaBytes: number }): Promise<void> {
    this.dirOf(v.id);
    if (!validQuota(v.quotaBytes)) throw new Error(`invalid quota ${v.quotaBytes}`);
    await this.db(trx)
      .insertInto('volumes')
      .values({
        id: v.id,
        service: v.service,
        account_id: v.accountId,
        quota_bytes: v.quotaBytes,
        used_bytes: 0,
        measured_at: null,
        created_at: this.clock.now(),
      })
      .execute();
  }

  async get(id: string, e?: Executor): Promise<VolumeRow | undefined> {
    const r = await this.db(e).selectFrom('volumes').selectAll().where('id', '=', id).executeTakeFirst();
    return r && { ...r, quota_bytes: Number(r.quota_bytes), used_bytes: Number(r.used_bytes) };
  }

  /**
   * Sets the quota (0 = no limit), unless it is below what is stored: `below-usage` then, and
   * nothing changes; `missing` when there is no such volume.
   */
  async setQuota(trx: Executor, id: string, quotaBytes: number): Promise<'ok' | 'below-usage' | 'missing'> {
    if (!validQuota(quotaBytes)) throw new Error(`invalid quota ${quotaBytes}`);
    const r = await this.db(trx)
      .updateTable('volumes')
      .set({ quota_bytes: quotaBytes })
      .where('id', '=', id)
      .where((eb) => (quotaBytes === 0 ? eb.lit(true) : eb('used_bytes', '<=', quotaBytes)))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) return 'ok';
    return (await this.get(id, trx)) ? 'below-usage' : 'missing';
  }

  /**
   * Deletes the volume's row in the caller's transaction; call `removeFiles(id)` after the commit.
   * Directories without a row are also collected by `collectOrphans`.
   */
  async drop(trx: Executor, id: string): Promise<void> {
    await this.db(trx).deleteFrom('volumes').where('id', '=', id).execute();
  }

  async removeFiles(id: string): Promise<void> {
    await fsp.rm(this.dirOf(id), { recursive: true, force: true });
  }

  /**
   * Walks a volume's tree and records its real usage; returns it. Stockade's temp files (writes in
   * flight) are left out, unless `countTemp`: a volume whose clients write its files directly (NFS)
   * has no writes of Stockade's in flight, and a client must not hide bytes under that name.
   */
  async measure(id: string, opts: { countTemp?: boolean } = {}): Promise<number> {
    const total = await walkTotal(this.dirOf(id), opts.countTemp ? undefined : VOLUME_TMP_DIR);
    await this.db().updateTable('volumes').set({ used_bytes: total, measured_at: this.clock.now() }).where('id', '=', id).execute();
    return total;
  }

  /** The volume, for file operations. Throws VolumeNotFoundError when it has no row. */
  async open(id: string, e?: Executor): Promise<Volume> {
    const row = await this.get(id, e);
    if (!row) throw new VolumeNotFoundError(id);
    return new Volume(this.store, id, this.dirOf(id));
  }

  /** Directories under the root that no row names (a volume dropped by a process that crashed before removing its files). */
  async collectOrphans(): Promise<string[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.root);
    } catch (err) {
      if (code(err) === 'ENOENT') return [];
      throw err;
    }
    const candidates = names.filter((n) => VOLUME_ID.test(n));
    if (candidates.length === 0) return [];
    const known = new Set((await this.db().selectFrom('volumes').select('id').where('id', 'in', candidates).execute()).map((r) => r.id));
    const orphans = candidates.filter((n) => !known.has(n));
    for (const n of orphans) await fsp.rm(path.join(this.root, n), { recursive: true, force: true });
    return orphans;
  }

  /**
   * Checks that the volumes root belongs to this database (cluster mode: shared storage). The root
   * holds a marker file; the database holds the marker of its root. The first process to start
   * writes both; a process whose root lacks the database's marker (a local directory where shared
   * storage was meant) refuses to start, before it could write a file another process cannot see.
   */
  async checkRoot(): Promise<void> {
    fs.mkdirSync(this.root, { recursive: true });
    const markerFile = path.join(this.root, '.stockade-volumes');
    let wroteMarker = false;
    if (!fs.existsSync(markerFile)) {
      // The file first (a crash before the row leaves a marker the next start records), created
      // whole and exclusively: processes starting together on a shared root agree on one marker.
      const tmp = `${markerFile}.${randomBytes(6).toString('hex')}`;
      fs.writeFileSync(tmp, randomBytes(16).toString('hex') + '\n', { mode: 0o644 });
      try {
        fs.linkSync(tmp, markerFile);
        wroteMarker = true;
      } catch (err) {
        if (code(err) !== 'EEXIST') throw err;
      } finally {
        fs.rmSync(tmp, { force: true });
      }
    }
    const local = fs.readFileSync(markerFile, 'utf8').trim();
    const db = this.db();
    await db.insertInto('meta').values({ key: 'volumes_root', value: local }).onConflict((oc) => oc.column('key').doNothing()).execute();
    const row = await db.selectFrom('meta').select('value').where('key', '=', 'volumes_root').executeTakeFirstOrThrow();
    if (row.value === local) return;
    if (wroteMarker) fs.rmSync(markerFile, { force: true });
    throw new Error(
      `the volumes directory ${this.root} is not the one this database's volumes live in ` +
        `(it ${wroteMarker ? 'had no marker' : `is marked ${local}`}, the database expects ${row.value}); ` +
        'with several processes on one database every process needs the same volumes directory (shared storage, --volumes-dir)',
    );
  }
}

/** One volume's files. Usage and quota live in its row; see the module comment. */
export class Volume {
  private readonly tmpDir: string;

  constructor(
    private readonly store: Store,
    readonly id: string,
    root: string,
  ) {
    fs.mkdirSync(root, { recursive: true });
    this.root = fs.realpathSync(root);
    this.tmpDir = path.join(this.root, VOLUME_TMP_DIR);
  }

  readonly root: string;

  /**
   * Maps a client path to an absolute path inside the root, or throws `InvalidPathError`.
   * Components that already exist are lstat'ed: a symlink anywhere is refused.
   */
  resolve(clientPath: string): string {
    if (typeof clientPath !== 'string') throw new InvalidPathError(String(clientPath), 'not-a-string');
    const segments = checkSyntax(clientPath);
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

  private row(e: Executor = this.store.db) {
    return asDb<CoreDatabase>(e).selectFrom('volumes').select(['quota_bytes', 'used_bytes']).where('id', '=', this.id);
  }

  /** Quota (0 = none) and usage as recorded. */
  async usage(e?: Executor): Promise<{ quotaBytes: number; usedBytes: number }> {
    const r = await this.row(e).executeTakeFirst();
    if (!r) throw new VolumeNotFoundError(this.id);
    return { quotaBytes: Number(r.quota_bytes), usedBytes: Number(r.used_bytes) };
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

  /** Moves the recorded usage by `delta` bytes, refusing to pass the quota; in the caller's transaction. */
  private async reserve(trx: Executor, delta: number, written: number): Promise<void> {
    const db = asDb<CoreDatabase>(trx);
    const r = await db
      .updateTable('volumes')
      .set((eb) => ({
        used_bytes: sql<number>`case when ${eb.ref('used_bytes')} + ${delta} < 0 then 0 else ${eb.ref('used_bytes')} + ${delta} end`,
      }))
      .where('id', '=', this.id)
      .where((eb) =>
        delta <= 0
          ? eb.lit(true)
          : eb.or([eb('quota_bytes', '=', 0), eb(eb('used_bytes', '+', delta), '<=', eb.ref('quota_bytes'))]),
      )
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return;
    const now = await this.row(trx).executeTakeFirst();
    if (!now) throw new VolumeNotFoundError(this.id);
    throw new QuotaExceededError(Number(now.quota_bytes), Number(now.used_bytes), written);
  }

  /**
   * Writes (creates or replaces) a file from a stream. Parent directories are created. Throws
   * `QuotaExceededError` (nothing is left behind) when the volume would exceed its quota; the
   * source stream is not destroyed. `commit` runs the final step inside the caller's transaction
   * (default: a transaction of its own). `inspect` sees the complete, fsynced file under its temp
   * path before it is committed (a security scan) and may throw to refuse it: nothing lands.
   * Returns the number of bytes written.
   */
  async write(
    clientPath: string,
    stream: Readable | AsyncIterable<Uint8Array>,
    opts: { commit?: CommitWrite; inspect?: (tmpPath: string, size: number) => Promise<void> } = {},
  ): Promise<{ size: number }> {
    const target = this.resolve(clientPath);
    const replaced = await this.existingSize(clientPath, target);
    const { quotaBytes, usedBytes } = await this.usage();
    const room = quotaBytes === 0 ? Infinity : quotaBytes - usedBytes + replaced;
    await this.ensureTmpDir();
    const tmp = path.join(this.tmpDir, randomBytes(12).toString('hex'));
    let written = 0;
    let fh: fsp.FileHandle | null = await fsp.open(tmp, 'wx');
    try {
      for await (const chunk of chunksOf(stream)) {
        written += chunk.byteLength;
        // Early refusal: the exact check is the reservation at commit.
        if (written > room) throw new QuotaExceededError(quotaBytes, usedBytes - replaced, written);
        let off = 0;
        while (off < chunk.byteLength) {
          const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
          off += bytesWritten;
        }
      }
      await fh.sync();
      await fh.close();
      fh = null;
      if (opts.inspect) await opts.inspect(tmp, written);
      let renamed = false;
      const apply = async (trx: Executor): Promise<void> => {
        const full = this.resolve(clientPath); // re-check: nothing on the way became a symlink
        const delta = written - (await this.existingSize(clientPath, full));
        await this.reserve(trx, delta, written);
        const dir = path.dirname(full);
        await fsp.mkdir(dir, { recursive: true });
        this.resolve(clientPath);
        await fsp.rename(tmp, full);
        renamed = true;
        await fsyncDir(dir);
      };
      await (opts.commit ?? ((fn) => this.store.tx(fn)))(apply);
      if (!renamed) throw new Error(`volume ${this.id}: the commit of ${clientPath} did not apply the write`);
      return { size: written };
    } catch (err) {
      if (fh) await fh.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  /** Reads a file (`highWaterMark`: the size of each read). A missing file errors the stream (ENOENT). */
  read(clientPath: string, range?: { start: number; end: number }, opts: { highWaterMark?: number } = {}): Readable {
    const full = this.resolve(clientPath);
    return fs.createReadStream(full, {
      flags: READ_FLAGS as unknown as string, // numeric flags are accepted at run time
      ...(range ? { start: range.start, end: range.end } : {}),
      ...(opts.highWaterMark !== undefined ? { highWaterMark: opts.highWaterMark } : {}),
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

  /** Removes a file, or a directory with everything in it, and gives its bytes back. False if nothing was there. */
  async remove(clientPath: string): Promise<boolean> {
    const full = this.resolve(clientPath);
    let st: fs.Stats;
    try {
      st = await fsp.lstat(full);
    } catch (err) {
      if (code(err) === 'ENOENT') return false;
      throw err;
    }
    const size = st.isDirectory() ? await walkTotal(full) : st.isFile() ? st.size : 0;
    if (st.isDirectory()) await fsp.rm(full, { recursive: true, force: true });
    else await fsp.unlink(full);
    await this.store.tx((trx) => this.reserve(trx, -size, 0));
    return true;
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
      checkSyntax(prefix);
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
}

/** The syntax rules of a client path; returns its segments or throws InvalidPathError. */
export function checkSyntax(clientPath: string): string[] {
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
