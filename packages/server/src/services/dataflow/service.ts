/** Data Flow's instance: its repository, its engine settings, and the hooks the platform calls. */
import { randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AppContext } from '../../context.js';
import type { ServiceHooks } from '../../platform/service.js';
import { SYSTEM_ACTOR } from '../../store/audit.js';
import type { Executor } from '../../store/schema.js';
import type { CatalogTableVersion, ConnectionInfo, DataflowApi } from './api.js';
import { duckType } from './graph.js';
import { splitPassword, withPassword } from './databases.js';
import { executionControl } from './execution-control.js';
import { EnginePool } from './engine.js';
import { DataflowRepository } from './repository.js';
import { ensureScheduled, startChildren, type MissedFirings } from './scheduler.js';
import type { CatalogRow, ConnectionRow, ExecutionRow, JobRow } from './tables.js';

/**
 * Engine settings (config `dataflowSettings`, tests): the memory DuckDB may use per worker
 * (`numWorker` × this is the execution's memory limit), the most threads one execution gets
 * (`numWorker`, capped by this and the machine's cores), and the length of one `timeout` unit
 * (a minute; tests shorten it).
 */
export interface DataflowSettings {
  memoryPerWorkerMb: number;
  maxThreads: number;
  timeoutUnitMs: number;
}

export const DEFAULT_SETTINGS: DataflowSettings = {
  memoryPerWorkerMb: 1024,
  maxThreads: os.availableParallelism(),
  timeoutUnitMs: 60_000,
};

function loadSettings(given: Record<string, unknown> | undefined): DataflowSettings {
  const s = { ...DEFAULT_SETTINGS };
  for (const [k, v] of Object.entries(given ?? {})) {
    if (!(k in s)) throw new Error(`unknown Data Flow setting ${k}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`Data Flow setting ${k} must be a positive integer`);
    (s as Record<string, number>)[k] = v;
  }
  return s;
}

/** The lifecycle kind deciding when an accepted execution starts (READY → RUNNING). */
export const EXECUTION_LIFECYCLE = 'job-execution';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** A 12-character alphanumeric id (§3.2). */
export function newId(): string {
  let s = '';
  for (let i = 0; i < 12; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

/** The job document stored in `dataflow_jobs.doc`. */
export interface JobDoc {
  nodes: Array<Record<string, unknown>>;
  runCondition: RunCondition;
  maxConcurrentRuns: number;
}

export interface RunCondition {
  workerType: string;
  numWorker: number;
  timeout: number;
  nrn: string;
  scriptPath: string;
  logPath: string;
  parameters?: Record<string, string>;
}

/** The "executable" status of a job: RUNNABLE ([R1]/[R2], type DATAFLOW) or READY ([R3] types). */
export const runnableStatus = (type: string): string => (type === 'DATAFLOW' ? 'RUNNABLE' : 'READY');

/** The purpose under which connection passwords are sealed (SecretBox.forPurpose). */
const CONNECTION_KEY_PURPOSE = 'dataflow-connection-password';

const CATALOG_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export const catalogInfo = (r: CatalogRow): CatalogTableVersion => ({
  database: r.database_name,
  table: r.table_name,
  schemaVersion: r.version,
  fieldList: JSON.parse(r.field_list) as CatalogTableVersion['fieldList'],
  location: `${r.bucket}/catalog/${r.database_name}/${r.table_name}/`,
});

const connectionInfo = (r: ConnectionRow): ConnectionInfo => ({
  connectionId: r.id,
  accountId: r.account_id,
  type: r.type as ConnectionInfo['type'],
  url: r.url,
  createdAt: Number(r.created_at),
});

export class DataflowService implements ServiceHooks {
  readonly repo: DataflowRepository;
  readonly api: DataflowApi;
  readonly settings: DataflowSettings;
  /** This server's engine processes. */
  readonly engines = new EnginePool();
  /** Where executions' working directories live. */
  readonly runsDir: string;
  /** What a firing that ran late does (`--missed-firings`, see scheduler.ts). */
  readonly missedFirings: MissedFirings;

  /** Deletes an object of the account's bucket at once (a job's replaced output, a moved script). */
  async deleteObject(accountId: string, bucket: string, key: string): Promise<void> {
    const afterCommit = await this.app.store.tx((trx) => this.app.api('s3').deleteObject(trx, accountId, bucket, key));
    await afterCommit();
  }

  constructor(readonly app: AppContext) {
    this.repo = new DataflowRepository(app.store);
    this.settings = loadSettings(app.config.dataflowSettings);
    this.runsDir = path.join(app.config.dataDir, 'dataflow-runs');
    this.missedFirings = app.config.missedFirings ?? 'once';
    const passwords = app.secrets.forPurpose(CONNECTION_KEY_PURPOSE);
    this.api = {
      createConnection: async (accountId, c) => {
        const scheme = c.type === 'postgresql' ? /^postgres(ql)?:\/\//i : c.type === 'mysql' ? /^mysql:\/\//i : null;
        if (!scheme) throw new Error(`--type must be postgresql or mysql, got ${JSON.stringify(c.type)}`);
        if (!scheme.test(c.url)) throw new Error(`a ${c.type} connection needs a ${c.type === 'mysql' ? 'mysql://' : 'postgres://'} URL`);
        const { url, password } = splitPassword(c.url);
        const row: ConnectionRow = {
          id: newId(),
          account_id: accountId,
          type: c.type,
          url,
          password_sealed: password === null ? null : passwords.seal(password),
          created_at: app.clock.now(),
        };
        await app.store.tx((trx) => this.repo.insertConnection(trx, row));
        return connectionInfo(row);
      },
      listConnections: async (accountId) => (await this.repo.listConnections(accountId)).map(connectionInfo),
      addCatalogVersion: async (accountId, t) => {
        for (const [k, v] of [['database', t.database], ['table', t.table]] as const) {
          if (!CATALOG_NAME.test(v)) throw new Error(`${k} must be 1-64 letters, digits or _ (starting with a letter or _), got ${JSON.stringify(v)}`);
        }
        if (t.fieldList.length === 0) throw new Error('a schema version needs at least one field');
        t.fieldList.forEach((f, i) => duckType(f, null, `fieldList[${i}]`));
        const buckets = (await app.api('s3').listBuckets(accountId)).map((b) => b.name);
        const row = await app.store.tx(async (trx) => {
          const versions = await this.repo.catalogVersions(accountId, t.database, t.table, trx);
          const r: CatalogRow = {
            account_id: accountId,
            database_name: t.database,
            table_name: t.table,
            version: String(versions.length + 1),
            field_list: JSON.stringify(t.fieldList.map((f) => ({ name: f.name, type: f.type }))),
            bucket: versions[0]?.bucket ?? (await this.defaultBucket(trx, accountId, buckets)),
            created_at: app.clock.now(),
          };
          await this.repo.insertCatalogVersion(trx, r);
          return r;
        });
        return catalogInfo(row);
      },
      listCatalog: async (accountId) => (await this.repo.listCatalog(accountId)).map(catalogInfo),
    };
    this.openConnection = async (accountId, id) => {
      const r = await this.repo.findConnection(accountId, id);
      if (!r) return null;
      return { type: r.type as ConnectionInfo['type'], url: withPassword(r.url, r.password_sealed === null ? null : passwords.open(r.password_sealed)) };
    };
  }

  /** A connection of the account with its password unsealed (null: none with that id). */
  readonly openConnection: (accountId: string, id: string) => Promise<{ type: ConnectionInfo['type']; url: string } | null>;

  control(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    return executionControl(this, req, res, path);
  }

  /**
   * Cancels an execution (dev-profile control; the API has none): READY → CANCELED at once, its
   * task canceled; RUNNING → the task is asked to stop, and the run ends CANCELED when it does.
   */
  async cancelExecution(id: string): Promise<'CANCELED' | 'CANCELING' | 'missing' | 'ended'> {
    const outcome = await this.app.store.tx(async (trx) => {
      const exec = await this.repo.getExecution(id, trx);
      if (!exec) return 'missing' as const;
      if (exec.status === 'READY' && (await this.finishExecution(trx, exec, 'CANCELED', 'canceled'))) {
        if (exec.task_id !== null) await this.app.runner.cancel(trx, Number(exec.task_id));
        return 'CANCELED' as const;
      }
      if (exec.status === 'RUNNING' && exec.task_id !== null) {
        const r = await this.app.runner.cancel(trx, Number(exec.task_id));
        if (r === 'requested') return 'CANCELING' as const;
      }
      return 'ended' as const;
    });
    this.app.runner.wake();
    return outcome;
  }

  /** Queues the next firing of every trigger a workflow uses (scheduler.ts). */
  async start(): Promise<void> {
    await ensureScheduled(this);
  }

  /** Ends the engine processes (a run in progress ends with them; its next claim marks it FAILED). */
  stop(): Promise<void> {
    this.engines.stop();
    return Promise.resolve();
  }

  /**
   * The account's default bucket for scripts and logs, `dataflow-{account}-{suffix}` (§1.4,
   * inferred pattern): an existing one of the account, or a new one created in `trx`.
   * `existing` is the account's bucket list, read before the transaction.
   */
  async defaultBucket(trx: Executor, accountId: string, existing: string[]): Promise<string> {
    const base = `dataflow-${accountId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 40)}-`;
    const found = existing.find((b) => b.startsWith(base));
    if (found) return found;
    for (;;) {
      const name = `${base}${newId().toLowerCase().slice(0, 6)}`;
      if ((await this.app.api('s3').createBucket(trx, { name, accountId })) === 'created') return name;
    }
  }

  /**
   * Ends an execution in a terminal status (compare-and-set from READY/RUNNING) and, when it
   * was the job's last active one, returns the job from RUNNING to its executable status; the
   * job's last execution status and date follow (§1.9 step 6). False when the execution had
   * already ended.
   */
  async finishExecution(trx: Executor, exec: ExecutionRow, status: 'COMPLETED' | 'FAILED' | 'CANCELED', error: string | null): Promise<boolean> {
    const now = this.app.clock.now();
    const moved = await this.repo.moveExecution(trx, exec.id, ['READY', 'RUNNING'], { status, ended_at: now, error });
    if (!moved) return false;
    // A workflow run's COMPLETED execution starts the JOB nodes chained under it (scheduler.ts).
    await startChildren(this, trx, exec, status);
    const job = await this.repo.lockJob(trx, exec.account_id, exec.job_id);
    if (job) {
      const set: Partial<JobRow> = { last_execution_status: status, last_execution_at: now };
      if (job.status === 'RUNNING' && (await this.repo.activeExecutions(trx, job.id)) === 0) set.status = runnableStatus(job.type);
      await this.repo.updateJob(trx, job.account_id, job.id, set);
    }
    await this.app.audit.record(trx, {
      ...SYSTEM_ACTOR,
      accountId: exec.account_id,
      clientAddress: null,
      requestId: null,
      action: `dataflow.execution.${status.toLowerCase()}`,
      resource: `job/${exec.job_id}/execution/${exec.id}`,
      ...(error ? { detail: { error } } : {}),
    });
    return true;
  }
}
