/**
 * Runs one execution (§1.9): stage the SOURCE_OBS inputs from object storage into the
 * execution's working directory, run the graph in a DuckDB child process (engine-child.ts) that
 * the server kills on timeout or cancellation, put the TARGET_OBS outputs into object storage per
 * `updateType`, and write the generated SQL (`scriptPath`) and the run's logs (`logPath`,
 * `consoleLogPath`) as objects.
 *
 * Object storage is reached only through S3's service api, as the job's account: a bucket of
 * another account is "not found".
 *
 * Layouts (not documented; chosen here):
 * - a `prefix` is a folder: the objects under `prefix/` (and an object named exactly `prefix`);
 *   an empty prefix is the whole bucket. Names starting with `_` or `.` and keys ending in `/`
 *   are skipped, as Spark skips them.
 * - outputs are `prefix/part-NNNNN-{executionId}.{csv|json|parquet}` (`coalesce` files, 1 when
 *   omitted). OVERWRITE (the default) writes the new files, then deletes the other objects under
 *   the folder; APPEND adds the new files; IGNORE writes nothing when the folder holds an object.
 * - script: `{scriptPath}{jobId}/{executionId}.sql`; log: `{logPath}{executionId}/events.json`
 *   (JSON: per node its rows, files and time, the error); console log:
 *   `{consoleLogPath}console.log` (text), where consoleLogPath is `{logPath's bucket}/consoleLogs/{executionId}/`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ObjectStorageError } from '../s3/api.js';
import type { EngineMessage, EnginePlan } from './engine-child.js';
import { readTable, writeTable, type DbTarget } from './databases.js';
import { isTarget, planNode, type NodeDoc } from './graph.js';
import { catalogInfo, type DataflowService, type RunCondition } from './service.js';
import type { ExecutionRow } from './tables.js';

/** The compiled child: next to this module (tests, `dist/src`), or the bundle's `dataflow-engine.mjs`. */
function childPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const own = path.join(here, 'engine-child.js');
  return existsSync(own) ? own : path.join(here, 'dataflow-engine.mjs');
}

/**
 * Linux: the engine starts through util-linux `setpriv --pdeathsig SIGKILL`, so the kernel kills it
 * the moment its server dies, SIGKILL included. The child also exits when its IPC channel closes, but
 * that needs its event loop to notice, which a loaded machine can delay by seconds while DuckDB keeps
 * computing for nobody.
 */
const SETPRIV = '/usr/bin/setpriv';
const DIE_WITH_SERVER =
  process.platform === 'linux' && existsSync(SETPRIV)
    ? { execPath: SETPRIV, execArgv: ['--pdeathsig', 'SIGKILL', '--', process.execPath] }
    : { execArgv: [] };

/**
 * A server's engine processes: after the first run, one idle process is kept ready (DuckDB
 * loaded), so a run does not wait for a process to start. A server that never runs a job starts
 * none. One pool per service instance (tests run several servers in one process).
 *
 * The next spare is started when a run's process has ended, not while it runs: starting Node and
 * loading DuckDB takes a core for a few hundred milliseconds, which a run on a small machine feels
 * (the engine benchmark on two cores: 1.68–1.73 × DuckDB alone when the spare started beside the
 * run, 1.06–1.12 × after).
 */
export class EnginePool {
  private spare: ChildProcess | null = null;
  private readonly live = new Set<ChildProcess>();
  private stopped = false;

  private spawn(): ChildProcess {
    const child = fork(childPath(), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json', ...DIE_WITH_SERVER });
    this.live.add(child);
    child.once('exit', () => {
      this.live.delete(child);
      if (this.spare === child) this.spare = null;
    });
    child.on('error', () => undefined);
    return child;
  }

  /** A process for one run (the spare when it is ready); a new spare follows when it ends. */
  take(): ChildProcess {
    const ready = this.spare && this.spare.exitCode === null && this.spare.connected ? this.spare : null;
    this.spare = null;
    const child = ready ?? this.spawn();
    child.once('exit', () => {
      if (!this.stopped && !this.spare) this.spare = this.spawn();
    });
    return child;
  }

  /** Ends every engine process (service stop); a run in progress ends with its process. */
  stop(): void {
    this.stopped = true;
    this.spare = null;
    for (const c of this.live) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

/** Why a run ended other than COMPLETED. */
export class RunEnded extends Error {
  constructor(
    readonly status: 'FAILED' | 'CANCELED',
    message: string,
  ) {
    super(message);
  }
}

export interface RunLog {
  executionId: string;
  jobId: string;
  nodes: Array<{ id: number; type: string; ms: number; rows?: number; files?: number; bytes?: number }>;
  console: string[];
  script: string[];
  error: string | null;
}

/** `bucket/rest` → [bucket, rest]. */
export function splitPath(p: string): [string, string] {
  const i = p.indexOf('/');
  return i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
}

const folder = (prefix: string): string => (prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`);
const hidden = (key: string): boolean => {
  const base = key.slice(key.lastIndexOf('/') + 1);
  return base === '' || base.startsWith('_') || base.startsWith('.');
};

const EXT: Record<string, string> = { CSV: 'csv', JSON: 'json', NDJSON: 'json', PARQUET: 'parquet' };
const CONTENT_TYPE: Record<string, string> = { CSV: 'text/csv', JSON: 'application/x-ndjson', PARQUET: 'application/vnd.apache.parquet' };

export function consoleLogPathOf(cond: RunCondition, executionId: string): string {
  const [bucket] = splitPath(cond.logPath);
  return `${bucket}/consoleLogs/${executionId}/`;
}

/**
 * Runs the execution to its end. Resolves when it COMPLETED; throws `RunEnded` (FAILED,
 * CANCELED). `signal` aborts it (cancellation, the runner stopping); `log` collects what happened.
 */
export async function runExecution(svc: DataflowService, exec: ExecutionRow, signal: AbortSignal, log: RunLog): Promise<void> {
  const s3 = svc.app.api('s3');
  const cond = JSON.parse(exec.condition) as RunCondition;
  const planned = JSON.parse(exec.plan) as NodeDoc[];
  const workdir = path.join(svc.runsDir, exec.id);
  const say = (line: string) => log.console.push(`${new Date(svc.app.clock.now()).toISOString()} ${line}`);
  await fsp.rm(workdir, { recursive: true, force: true });
  await fsp.mkdir(path.join(workdir, 'tmp'), { recursive: true });
  try {
    if (exec.job_type === 'SCRIPT') throw new RunEnded('FAILED', 'SCRIPT jobs are not supported by this server: give the job nodes');
    const nodes = await resolveCatalog(svc, exec.account_id, planned);
    const connection = async (n: NodeDoc): Promise<DbTarget> => {
      const c = await svc.openConnection(exec.account_id, n.connectionId as string);
      const want = n.type.endsWith('POSTGRESQL') ? 'postgresql' : 'mysql';
      if (!c || c.type !== want) throw new RunEnded('FAILED', `node ${n.id}: no ${want} connection ${String(n.connectionId)}`);
      return { ...c, table: n.table as string };
    };

    // 1. Stage the inputs.
    const inputs: Record<string, string[]> = {};
    for (const n of nodes.filter((x) => x.type === 'SOURCE_OBS')) {
      const started = Date.now();
      const bucket = n.bucketName as string;
      const dir = folder(n.prefix as string);
      let objects;
      try {
        objects = (await s3.listObjects(exec.account_id, bucket, n.prefix as string)).filter(
          (o) => (o.key === n.prefix || o.key.startsWith(dir)) && !hidden(o.key),
        );
      } catch (e) {
        if (e instanceof ObjectStorageError) throw new RunEnded('FAILED', `node ${n.id}: ${e.message}`);
        throw e;
      }
      const files: string[] = [];
      let bytes = 0;
      await fsp.mkdir(path.join(workdir, 'in', String(n.id)), { recursive: true });
      for (const [i, o] of objects.entries()) {
        signal.throwIfAborted();
        const file = path.join(workdir, 'in', String(n.id), `${String(i).padStart(5, '0')}.${EXT[n.dataType as string]}`);
        await s3.copyObjectToFile(exec.account_id, bucket, o.key, file);
        files.push(file);
        bytes += o.size;
      }
      inputs[String(n.id)] = files;
      say(`node ${n.id} (SOURCE_OBS): ${files.length} object(s), ${bytes} bytes from ${bucket}/${dir} staged in ${Date.now() - started} ms`);
      log.nodes.push({ id: n.id, type: n.type, ms: Date.now() - started, files: files.length, bytes });
    }
    for (const n of nodes.filter((x) => x.type === 'SOURCE_CDB_POSTGRESQL' || x.type === 'SOURCE_CDB_MYSQL')) {
      const started = Date.now();
      const src = await connection(n);
      const dir = path.join(workdir, 'in', String(n.id));
      await fsp.mkdir(dir, { recursive: true });
      const file = path.join(dir, 'rows.json');
      let rows;
      try {
        rows = await readTable(src, planNode(n, []).schema!, file, signal);
      } catch (e) {
        if (signal.aborted) throw e;
        throw new RunEnded('FAILED', `node ${n.id}: ${e instanceof Error ? e.message : String(e)}`);
      }
      inputs[String(n.id)] = [file];
      say(`node ${n.id} (${n.type}): ${rows} row(s) read from ${src.table} in ${Date.now() - started} ms`);
      log.nodes.push({ id: n.id, type: n.type, ms: Date.now() - started, rows });
    }
    const outputs: Record<string, string> = {};
    for (const n of nodes.filter((x) => isTarget(x.type))) {
      outputs[String(n.id)] = path.join(workdir, 'out', String(n.id));
      await fsp.mkdir(outputs[String(n.id)]!, { recursive: true });
    }

    // 2. Run the graph in the child.
    const numWorker = cond.numWorker;
    const plan: EnginePlan = {
      executionId: exec.id,
      workdir,
      threads: Math.max(1, Math.min(numWorker, svc.settings.maxThreads)),
      memoryLimit: `${numWorker * svc.settings.memoryPerWorkerMb}MB`,
      nodes,
      inputs,
      outputs,
    };
    say(`engine: DuckDB, ${plan.threads} thread(s), memory limit ${plan.memoryLimit}`);
    const timeoutMs = cond.timeout > 0 ? cond.timeout * svc.settings.timeoutUnitMs : 0;
    const engineStarted = Date.now();
    await runChild(svc.engines, plan, signal, timeoutMs, cond.timeout, log, say);
    say(`engine: finished in ${Date.now() - engineStarted} ms`);

    // 3. Put the outputs in place.
    for (const n of nodes.filter((x) => isTarget(x.type))) {
      signal.throwIfAborted();
      const t = Date.now();
      const dir = outputs[String(n.id)]!;
      if (n.type === 'TARGET_OBS') {
        await publish(svc, exec, n, dir, say, t);
        continue;
      }
      const dst = await connection(n);
      const mode = (n.updateType as string | undefined) ?? 'OVERWRITE';
      const files = (await fsp.readdir(dir)).sort().map((f) => path.join(dir, f));
      let written;
      try {
        written = await writeTable(dst, planNode(n, [{ id: n.parentNodeIds[0]!, schema: null }]).schema!, files, mode);
      } catch (e) {
        throw new RunEnded('FAILED', `node ${n.id}: ${e instanceof Error ? e.message : String(e)}`);
      }
      say(`node ${n.id} (${n.type}): ${written === null ? `${dst.table} holds data; updateType IGNORE, nothing written` : `${written} row(s) into ${dst.table} (${mode})`} in ${Date.now() - t} ms`);
    }
  } finally {
    await fsp.rm(workdir, { recursive: true, force: true });
  }
}

/**
 * SOURCE_/TARGET_CATALOG nodes become object-storage nodes over their table's Parquet data
 * (`{bucket}/catalog/{database}/{table}/`), after checking that the schema version exists and
 * holds the node's fields.
 */
async function resolveCatalog(svc: DataflowService, accountId: string, nodes: NodeDoc[]): Promise<NodeDoc[]> {
  const out: NodeDoc[] = [];
  for (const n of nodes) {
    if (n.type !== 'SOURCE_CATALOG' && n.type !== 'TARGET_CATALOG') {
      out.push(n);
      continue;
    }
    const versions = await svc.repo.catalogVersions(accountId, n.database as string, n.table as string);
    const v = versions.find((x) => x.version === n.schemaVersion);
    if (!v) throw new RunEnded('FAILED', `node ${n.id}: no schema version ${String(n.schemaVersion)} of catalog table ${String(n.database)}.${String(n.table)}`);
    const info = catalogInfo(v);
    const known = new Set(info.fieldList.map((f) => f.name));
    const missing = (n.fieldList as Array<{ name: string }>).find((f) => !known.has(f.name));
    if (missing) throw new RunEnded('FAILED', `node ${n.id}: field ${missing.name} is not in schema version ${v.version} of ${v.database_name}.${v.table_name}`);
    const [bucketName, prefix] = splitPath(info.location);
    out.push({ ...n, type: n.type === 'SOURCE_CATALOG' ? 'SOURCE_OBS' : 'TARGET_OBS', regionNo: '1', bucketName, prefix, dataType: 'PARQUET' });
  }
  return out;
}

function runChild(engines: EnginePool, plan: EnginePlan, signal: AbortSignal, timeoutMs: number, minutes: number, log: RunLog, say: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let child: ChildProcess | null = null;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (child && child.exitCode === null) child.kill('SIGKILL');
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => finish(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    const timer = timeoutMs > 0 ? setTimeout(() => finish(new RunEnded('FAILED', `timed out after ${minutes} minute(s)`)), timeoutMs) : undefined;
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    child = engines.take();
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 8192) stderr += d.toString();
    });
    child.on('message', (m: EngineMessage) => {
      if (m.type === 'sql') log.script.push(...m.text);
      else if (m.type === 'node') {
        log.nodes.push({ id: m.id, type: m.nodeType, ms: m.ms, ...(m.rows !== undefined ? { rows: m.rows } : {}), ...(m.files !== undefined ? { files: m.files } : {}) });
        say(`node ${m.id} (${m.nodeType}): ${m.ms} ms${m.rows !== undefined ? `, ${m.rows} row(s) written` : ''}`);
      } else if (m.type === 'done') finish(null);
      else if (m.type === 'error') finish(new RunEnded('FAILED', m.nodeId === null ? m.message : `node ${m.nodeId}: ${m.message}`));
    });
    child.on('error', (e) => finish(e));
    child.on('exit', (code, sig) => {
      finish(new RunEnded('FAILED', `the engine process ended (${sig ?? `exit ${code}`})${stderr ? `: ${stderr.trim().slice(0, 2000)}` : ''}`));
    });
    child.send(plan);
  });
}

async function publish(svc: DataflowService, exec: ExecutionRow, n: NodeDoc, dir: string, say: (l: string) => void, started: number): Promise<void> {
  const s3 = svc.app.api('s3');
  const bucket = n.bucketName as string;
  const base = folder(n.prefix as string);
  const mode = (n.updateType as string | undefined) ?? 'OVERWRITE';
  let existing;
  try {
    existing = (await s3.listObjects(exec.account_id, bucket, base)).map((o) => o.key);
  } catch (e) {
    if (e instanceof ObjectStorageError) throw new RunEnded('FAILED', `node ${n.id}: ${e.message}`);
    throw e;
  }
  if (mode === 'IGNORE' && existing.length > 0) {
    say(`node ${n.id} (TARGET_OBS): ${bucket}/${base} holds data; updateType IGNORE, nothing written`);
    return;
  }
  const written = new Set<string>();
  for (const f of (await fsp.readdir(dir)).sort()) {
    const ext = path.extname(f);
    const key = `${base}${path.basename(f, ext)}-${exec.id}${ext}`;
    await s3.writeObject(exec.account_id, bucket, key, createReadStream(path.join(dir, f)), CONTENT_TYPE[n.dataType as string]);
    written.add(key);
  }
  if (mode === 'OVERWRITE') {
    for (const key of existing) if (!written.has(key)) await svc.deleteObject(exec.account_id, bucket, key);
  }
  say(`node ${n.id} (TARGET_OBS): ${written.size} object(s) to ${bucket}/${base} (${mode}) in ${Date.now() - started} ms`);
}

/** Writes the script and the logs as objects; a path whose bucket is missing is noted and skipped. */
export async function writeArtifacts(svc: DataflowService, exec: ExecutionRow, log: RunLog): Promise<void> {
  const s3 = svc.app.api('s3');
  const cond = JSON.parse(exec.condition) as RunCondition;
  const put = async (where: string, name: string, body: string, type: string) => {
    const [bucket, rest] = splitPath(where);
    try {
      await s3.writeObject(exec.account_id, bucket, `${folder(rest)}${name}`, Buffer.from(body), type);
    } catch (e) {
      if (!(e instanceof ObjectStorageError)) throw e;
      svc.app.logger.warn({ executionId: exec.id, err: e.message }, 'Data Flow could not write a log object');
    }
  };
  const header = `-- Data Flow job ${exec.job_id} (${exec.job_name}), execution ${exec.id}: DuckDB SQL as run\n`;
  const events = { executionId: exec.id, jobId: exec.job_id, nodes: log.nodes, error: log.error };
  // Three objects, written side by side.
  await Promise.all([
    put(cond.scriptPath, `${exec.job_id}/${exec.id}.sql`, header + log.script.join('\n') + '\n', 'application/sql'),
    put(cond.logPath, `${exec.id}/events.json`, JSON.stringify(events, null, 2), 'application/json'),
    put(consoleLogPathOf(cond, exec.id), 'console.log', log.console.join('\n') + '\n', 'text/plain'),
  ]);
}
