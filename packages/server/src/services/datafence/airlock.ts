/**
 * The airlock: the transfers behind import and export requests (issue 9), run by durable tasks
 * (tasks.ts), and the rules they apply (security check, export policy).
 *
 *   import   object ──(S3 api readObject)──► security check on the complete temp file ──► box NAS
 *            `{fileId}_{name}`; the file is renamed into place inside the transaction that marks
 *            the request IMPORTED (volumes' `commit`), so a crash leaves either nothing visible or
 *            the whole file with its IMPORTED row (a rerun replaces the same path with the same bytes).
 *   upload   NAS file ──► staged content (SHA-256 computed while it is written) ──► committed as the
 *            review object in the transaction that marks the request UPLOADED and pins the SHA-256.
 *   release  review object ──► staged content, hashed again ──► equal to the pinned SHA-256:
 *            committed in the target bucket with EXPORTED; different: ERROR_FILE, nothing released.
 *
 * Each transfer's effects commit in the task's completing transaction (`ctx.complete`), guarded by
 * a compare-and-set on the request's status: however often a task runs (crash, lost lease,
 * another process), a request reaches its end state once, and content that was staged but not
 * committed is discarded (or left to garbage collection after a crash).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { TaskContext } from '../../tasks/runner.js';
import { PermanentTaskError } from '../../tasks/errors.js';
import { SYSTEM_ACTOR } from '../../store/audit.js';
import { QuotaExceededError } from '../../store/volumes.js';
import type { Executor } from '../../store/schema.js';
import type { StagedObject } from '../s3/api.js';
import type { DatafenceService } from './service.js';
import type { ExportRow, ImportRow } from './tables.js';

/** 2 GB per file (§1.7), read as 2 GiB. */
export const MAX_TRANSFER_BYTES = 2 * 1024 ** 3;
/**
 * Attempts of a transfer task (claims: a run cut short by a crash counts); a failure on the last
 * ends the request in ERROR_SYSTEM. Generous, so that a server restarted several times during one
 * copy still finishes it.
 */
export const TRANSFER_ATTEMPTS = 12;
const GAVE_UP = `the transfer did not complete in ${TRANSFER_ATTEMPTS - 1} attempts`;
/** How long the import scan command may run. */
const SCAN_TIMEOUT_MS = 120_000;

/**
 * The EICAR anti-virus test signature (68 bytes), assembled so this source file itself does not
 * carry it. A file whose content begins with it is refused by the built-in check.
 */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-' + 'TEST-FILE!$H+H*';

/** The security check refused a file: ERROR_SECURITY. */
class Refused extends Error {}
/** The file cannot be transferred: ERROR_FILE. */
class FileError extends Error {}

/** A fence's export policy (`--export-policy`): null means no limit of that kind. */
export interface ExportPolicy {
  /** Lower-case extensions with their dot (`.csv`); a file without an extension matches `""`. */
  allowedExtensions: string[] | null;
  maxSizeBytes: number | null;
}

/** Parses `{ default?, fences?: { "<fenceId>": … } }`; throws with a clear message on a bad shape. */
export function parsePolicies(raw: unknown, source: string): { fallback: ExportPolicy; fences: Map<number, ExportPolicy> } {
  const bad = (why: string) => new Error(`${source}: ${why}`);
  const one = (v: unknown, where: string): ExportPolicy => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${where} must be an object`);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (k !== 'allowedExtensions' && k !== 'maxSizeBytes') throw bad(`${where}: unknown field ${k}`);
    let exts: string[] | null = null;
    if (o.allowedExtensions !== undefined && o.allowedExtensions !== null) {
      if (!Array.isArray(o.allowedExtensions) || !o.allowedExtensions.every((e) => typeof e === 'string')) {
        throw bad(`${where}.allowedExtensions must be a list of strings such as ".csv"`);
      }
      exts = (o.allowedExtensions).map((e) => (e === '' || e.startsWith('.') ? e : `.${e}`).toLowerCase());
    }
    let max: number | null = null;
    if (o.maxSizeBytes !== undefined && o.maxSizeBytes !== null) {
      if (typeof o.maxSizeBytes !== 'number' || !Number.isSafeInteger(o.maxSizeBytes) || o.maxSizeBytes < 0) {
        throw bad(`${where}.maxSizeBytes must be a non-negative integer`);
      }
      max = o.maxSizeBytes;
    }
    return { allowedExtensions: exts, maxSizeBytes: max };
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('must be a JSON object');
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) if (k !== 'default' && k !== 'fences') throw bad(`unknown field ${k}`);
  const fallback = r.default === undefined ? { allowedExtensions: null, maxSizeBytes: null } : one(r.default, 'default');
  const fences = new Map<number, ExportPolicy>();
  if (r.fences !== undefined) {
    if (typeof r.fences !== 'object' || r.fences === null) throw bad('fences must be an object');
    for (const [id, v] of Object.entries(r.fences as Record<string, unknown>)) {
      if (!/^[1-9][0-9]{0,14}$/.test(id)) throw bad(`fences: ${JSON.stringify(id)} is not a fence id`);
      fences.set(Number(id), one(v, `fences.${id}`));
    }
  }
  return { fallback, fences };
}

/** `a/b/report.CSV` → `.csv`; `""` without an extension. */
export function extensionOf(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot).toLowerCase();
}

/**
 * `source` (read 1 MiB at a time: see `CHUNK`) with up to `AHEAD` bytes read ahead of the
 * consumer, so that reading overlaps writing and hashing. Memory: at most AHEAD + a chunk per
 * transfer.
 */
const CHUNK = 1024 * 1024;
const AHEAD = 4 * 1024 * 1024;
function streamAhead(source: Readable): Readable {
  const ahead = new PassThrough({ highWaterMark: AHEAD });
  source.once('error', (e) => ahead.destroy(e));
  return source.pipe(ahead);
}

const resourceOf = (kind: 'import' | 'export', r: { fence_id: number; box_id: number; id: number }) =>
  `fence/${r.fence_id}/box/${r.box_id}/${kind}/${r.id}`;

export class Airlock {
  constructor(private readonly svc: DatafenceService) {}

  private get app() {
    return this.svc.app;
  }

  /** A transfer's audit event, written by the server itself. */
  async event(trx: Executor, kind: 'import' | 'export', r: ImportRow | ExportRow, action: string, detail: Record<string, unknown>): Promise<void> {
    await this.app.audit.record(trx, {
      ...SYSTEM_ACTOR,
      accountId: r.account_id,
      action: `${kind}.${action}`,
      resource: resourceOf(kind, r),
      detail,
      clientAddress: null,
      requestId: null,
    });
  }

  // ── import ────────────────────────────────────────────────────────────────────────────────

  async runImport(fileId: number, ctx: TaskContext): Promise<void> {
    const { repo } = this.svc;
    let row = await repo.getImport(undefined, fileId);
    if (!row) return;
    if (row.status === 'INITIALIZED') {
      const r = row;
      await ctx.tx(async (trx) => {
        if (await repo.updateImport(trx, r.id, ['INITIALIZED'], { status: 'UPLOADING' })) {
          await this.event(trx, 'import', r, 'transition', { from: 'INITIALIZED', to: 'UPLOADING' });
        }
      });
      row = await repo.getImport(undefined, fileId);
    }
    if (!row || row.status !== 'UPLOADING') return;
    // The last attempt only records the failure: a crash during it cannot leave the request stranded.
    if (ctx.attempt >= TRANSFER_ATTEMPTS) return this.endImport(ctx, row, 'ERROR_SYSTEM', GAVE_UP);
    try {
      await this.copyIn(row, ctx);
    } catch (e) {
      if (e instanceof Refused) return this.endImport(ctx, row, 'ERROR_SECURITY', e.message);
      if (e instanceof FileError) return this.endImport(ctx, row, 'ERROR_FILE', e.message);
      if (e instanceof QuotaExceededError) return this.endImport(ctx, row, 'ERROR_FILE', 'the file does not fit on the NAS');
      if (ctx.attempt >= TRANSFER_ATTEMPTS - 1 || e instanceof PermanentTaskError) {
        return this.endImport(ctx, row, 'ERROR_SYSTEM', (e as Error).message);
      }
      throw e;
    }
  }

  private async endImport(ctx: TaskContext, row: ImportRow, status: string, error: string): Promise<void> {
    await ctx.complete(async (trx) => {
      if (await this.svc.repo.updateImport(trx, row.id, ['UPLOADING'], { status, error, completed_at: this.app.clock.now() })) {
        await this.event(trx, 'import', row, 'transition', { from: 'UPLOADING', to: status, error });
      }
    });
  }

  private async copyIn(row: ImportRow, ctx: TaskContext): Promise<void> {
    const nas = (await this.svc.boxNas(row.box_id)).find((n) => n.instanceNo === row.nas_instance_no);
    if (!nas) throw new FileError(`the NAS ${row.nas_name} is no longer in use`);
    const name = row.target_path;
    const { config } = this.app;
    // The built-in check refuses a blocked extension before any byte moves.
    if (!config.importScanCommand && config.importBlockedExtensions.includes(extensionOf(row.source_key))) {
      throw new Refused(`the extension ${extensionOf(row.source_key)} is refused by the import security check`);
    }
    const obj = await this.app.api('s3').readObject(row.account_id, row.source_bucket, row.source_key);
    if (obj === 'noBucket') throw new FileError(`the bucket ${row.source_bucket} no longer exists`);
    if (obj === 'noObject') throw new FileError(`the object ${row.source_key} no longer exists`);
    if (obj.size > MAX_TRANSFER_BYTES) {
      obj.stream.destroy();
      throw new FileError(`the object is ${obj.size} bytes, more than ${MAX_TRANSFER_BYTES}`);
    }
    const volume = await this.app.volumes.open(nas.volumeId);
    const signal = ctx.signal;
    const source = obj.stream;
    const onAbort = () => source.destroy(new Error('the task was stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await volume.write(name, streamAhead(source), {
        inspect: (tmp) => this.securityCheck(tmp, row.source_key),
        commit: (apply) =>
          ctx.complete(async (trx) => {
            // The status first: a request that moved on meanwhile gets nothing (the temp file goes).
            if (!(await this.svc.repo.updateImport(trx, row.id, ['UPLOADING'], { status: 'IMPORTED', size: obj.size, completed_at: this.app.clock.now() }))) {
              throw new PermanentTaskError(`import ${row.id} is no longer UPLOADING`);
            }
            await apply(trx);
            await this.event(trx, 'import', row, 'transition', { from: 'UPLOADING', to: 'IMPORTED', size: obj.size, nasPath: `${nas.linuxMountPath}/${name}` });
          }),
      });
    } finally {
      signal.removeEventListener('abort', onAbort);
      source.destroy();
    }
  }

  /**
   * The import security check on the complete file (its temp path) before it lands. With
   * `--import-scan-command`, the command (split on white space, no shell) runs with the file's path
   * as its last argument: exit status 0 admits the file, any other refuses it; a command that
   * cannot be started or runs past 2 minutes is a system error (the file does not land). Without
   * one, a file whose content begins with the EICAR test signature is refused.
   */
  private async securityCheck(file: string, sourceKey: string): Promise<void> {
    const cmd = this.app.config.importScanCommand;
    if (cmd) {
      const [program, ...args] = cmd.trim().split(/\s+/);
      const status = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(program!, [...args, file], { stdio: 'ignore', timeout: SCAN_TIMEOUT_MS });
        child.once('error', (e) => reject(new PermanentTaskError(`the import scan command could not run: ${e.message}`)));
        child.once('exit', (code, sig) => (sig ? reject(new PermanentTaskError(`the import scan command ended by ${sig}`)) : resolve(code)));
      });
      if (status !== 0) throw new Refused(`the import scan command refused ${sourceKey} (exit status ${status})`);
      return;
    }
    const head = Buffer.alloc(EICAR.length);
    const fd = fs.openSync(file, 'r');
    let n: number;
    try {
      n = fs.readSync(fd, head, 0, head.length, 0);
    } finally {
      fs.closeSync(fd);
    }
    if (n === EICAR.length && head.toString('latin1') === EICAR) throw new Refused(`${sourceKey} carries the EICAR test signature`);
  }

  // ── export: the copy to review ────────────────────────────────────────────────────────────

  async runUpload(fileId: number, ctx: TaskContext): Promise<void> {
    const { repo } = this.svc;
    let row = await repo.getExport(undefined, fileId);
    if (!row) return;
    if (row.status === 'INITIALIZED') {
      const r = row;
      await ctx.tx(async (trx) => {
        if (await repo.updateExport(trx, r.id, ['INITIALIZED'], { status: 'UPLOADING' })) {
          await this.event(trx, 'export', r, 'transition', { from: 'INITIALIZED', to: 'UPLOADING' });
        }
      });
      row = await repo.getExport(undefined, fileId);
    }
    if (!row || row.status !== 'UPLOADING') return;
    await this.guard(ctx, row, 'UPLOADING', () => this.copyToReview(row, ctx));
  }

  private async copyToReview(row: ExportRow, ctx: TaskContext): Promise<void> {
    const nas = (await this.svc.boxNas(row.box_id)).find((n) => n.instanceNo === row.nas_instance_no);
    if (!nas) throw new FileError(`the NAS ${row.nas_name} is no longer in use`);
    const volume = await this.app.volumes.open(nas.volumeId);
    const st = await volume.stat(row.source_path);
    if (!st || st.type !== 'file') throw new FileError(`the file ${row.source_path} no longer exists`);
    const limit = this.limitFor(row.fence_id);
    if (st.size > limit) throw new FileError(`the file is ${st.size} bytes, more than ${limit}`);
    const s3 = this.app.api('s3');
    const staged = await this.stage(ctx, volume.read(row.source_path, undefined, { highWaterMark: CHUNK }), limit);
    const after = await this.commitStaged(ctx, staged, async (trx) => {
      const ok = await this.svc.repo.updateExport(trx, row.id, ['UPLOADING'], { status: 'UPLOADED', size: staged.size, sha256: staged.sha256 });
      if (!ok) return undefined;
      const done = await s3.commitObject(trx, row.account_id, row.review_bucket, row.screen_path, staged);
      await this.event(trx, 'export', row, 'transition', {
        from: 'UPLOADING',
        to: 'UPLOADED',
        size: staged.size,
        sha256: staged.sha256,
        reviewObject: `${row.review_bucket}/${row.screen_path}`,
      });
      return done;
    });
    await after?.();
  }

  /** The most bytes a file of this fence may have on its way out: 2 GB, or less by its policy. */
  private limitFor(fenceId: number): number {
    const max = this.svc.policyFor(fenceId).maxSizeBytes;
    return max === null ? MAX_TRANSFER_BYTES : Math.min(max, MAX_TRANSFER_BYTES);
  }

  private async stage(ctx: TaskContext, source: Readable, limit: number): Promise<StagedObject> {
    const onAbort = () => source.destroy(new Error('the task was stopped'));
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.app.api('s3').stageObject(streamAhead(source), limit);
    } catch (e) {
      if (e instanceof Error && /exceeds/.test(e.message)) throw new FileError(e.message);
      throw e;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      source.destroy();
    }
  }

  /** Commits staged content with `fn`'s changes; when `fn` commits nothing (the request moved on), the content goes. */
  private async commitStaged<T>(ctx: TaskContext, staged: StagedObject, fn: (trx: Executor) => Promise<T | undefined>): Promise<T | undefined> {
    let result: T | undefined;
    try {
      result = await ctx.complete(fn);
    } catch (e) {
      await this.app.api('s3').discard(staged);
      throw e;
    }
    if (result === undefined) await this.app.api('s3').discard(staged);
    return result;
  }

  /** Runs a transfer of an export request in `status`; its failures end the request as issue 9 says. */
  private async guard(ctx: TaskContext, row: ExportRow, status: 'UPLOADING' | 'EXPORTING', work: () => Promise<void>): Promise<void> {
    if (ctx.attempt >= TRANSFER_ATTEMPTS) return this.endExport(ctx, row, status, 'ERROR_SYSTEM', GAVE_UP);
    try {
      await work();
    } catch (e) {
      if (e instanceof FileError) return this.endExport(ctx, row, status, 'ERROR_FILE', e.message);
      if (ctx.attempt >= TRANSFER_ATTEMPTS - 1 || e instanceof PermanentTaskError) {
        return this.endExport(ctx, row, status, 'ERROR_SYSTEM', (e as Error).message);
      }
      throw e;
    }
  }

  private async endExport(ctx: TaskContext, row: ExportRow, from: string, status: string, error: string): Promise<void> {
    await ctx.complete(async (trx) => {
      if (await this.svc.repo.updateExport(trx, row.id, [from], { status, error, completed_at: this.app.clock.now() })) {
        await this.event(trx, 'export', row, 'transition', { from, to: status, error });
      }
    });
  }

  // ── export: the release ───────────────────────────────────────────────────────────────────

  async runRelease(fileId: number, ctx: TaskContext): Promise<void> {
    const { repo } = this.svc;
    let row = await repo.getExport(undefined, fileId);
    if (!row) return;
    if (row.status === 'APPROVED') {
      const r = row;
      await ctx.tx(async (trx) => {
        if (await repo.updateExport(trx, r.id, ['APPROVED'], { status: 'EXPORTING' })) {
          await this.event(trx, 'export', r, 'transition', { from: 'APPROVED', to: 'EXPORTING' });
        }
      });
      row = await repo.getExport(undefined, fileId);
    }
    if (!row || row.status !== 'EXPORTING') return;
    await this.guard(ctx, row, 'EXPORTING', () => this.release(row, ctx));
  }

  /** The target object's key: the file's name on the NAS (its path there), [inferred]. */
  static targetKey(row: ExportRow): string {
    return row.source_path;
  }

  private async release(row: ExportRow, ctx: TaskContext): Promise<void> {
    const s3 = this.app.api('s3');
    const obj = await s3.readObject(row.account_id, row.review_bucket, row.screen_path);
    if (obj === 'noBucket' || obj === 'noObject') throw new FileError('the review object no longer exists');
    if (!(await s3.bucketExists(row.account_id, row.target_bucket))) {
      obj.stream.destroy();
      throw new FileError(`the bucket ${row.target_bucket} no longer exists`);
    }
    const staged = await this.stage(ctx, obj.stream, MAX_TRANSFER_BYTES);
    if (staged.sha256 !== row.sha256) {
      await s3.discard(staged);
      throw new FileError(`the review object's SHA-256 ${staged.sha256} is not the pinned ${row.sha256}: nothing was released`);
    }
    const key = Airlock.targetKey(row);
    const after = await this.commitStaged(ctx, staged, async (trx) => {
      if (!(await this.svc.repo.updateExport(trx, row.id, ['EXPORTING'], { status: 'EXPORTED', completed_at: this.app.clock.now() }))) return undefined;
      const done = await s3.commitObject(trx, row.account_id, row.target_bucket, key, staged);
      await this.event(trx, 'export', row, 'transition', { from: 'EXPORTING', to: 'EXPORTED', sha256: staged.sha256, target: `${row.target_bucket}/${key}` });
      return done;
    });
    await after?.();
  }
}

/** Reads a policy file (`--export-policy`). */
export function loadPolicyFile(file: string): unknown {
  return JSON.parse(fs.readFileSync(path.resolve(file), 'utf8')) as unknown;
}
