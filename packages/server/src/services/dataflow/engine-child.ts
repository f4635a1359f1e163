/**
 * The ETL engine's child process: one per execution, started by engine.ts with `fork` and killed
 * by it (SIGKILL) on timeout, cancellation or server shutdown. It receives the plan over IPC,
 * opens an in-memory DuckDB confined to the execution's working directory, runs every node and
 * reports back; it exits when its parent goes away (the IPC channel closes).
 *
 * Confinement: before any of the job's SQL runs, the database is configured with the
 * execution's threads and memory limit, `temp_directory` inside the working directory,
 * `allowed_directories` = [the working directory], `enable_external_access = false` (no file
 * or network access outside the allowed directories, no ATTACH of other files, no extension
 * download or load), extension auto-install/auto-load off, and `lock_configuration = true` so
 * the job's SQL cannot change any of it back. The json and parquet extensions are built into the
 * DuckDB library Stockade ships; no extension is ever downloaded.
 *
 * This file imports `@duckdb/node-api`; nothing in the server does, so DuckDB is loaded only
 * when a job runs.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ident, isSource, isTarget, literal, planNode, viewOf, type Column, type NodeDoc, type Schema } from './graph.js';

export interface EnginePlan {
  executionId: string;
  workdir: string;
  threads: number;
  /** DuckDB memory limit, e.g. `2GB`. */
  memoryLimit: string;
  nodes: NodeDoc[];
  /** SOURCE_OBS inputs staged by the server: the files of each source node, in the working directory. */
  inputs: Record<string, string[]>;
  /** Each target's output directory (in the working directory). */
  outputs: Record<string, string>;
}

export type EngineMessage =
  | { type: 'sql'; text: string[] }
  | { type: 'node'; id: number; nodeType: string; ms: number; rows?: number; files?: number }
  | { type: 'done' }
  | { type: 'error'; nodeId: number | null; message: string };

const send = (m: EngineMessage): Promise<void> =>
  new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(m, () => resolve());
  });

const EXT: Record<string, string> = { CSV: 'csv', JSON: 'json', PARQUET: 'parquet' };

/**
 * How a staged source is read. The declared columns are read with their types (CSV: `types`;
 * JSON: `columns`): a value that does not convert fails the run with DuckDB's message naming it
 * (as Spark's FAILFAST mode; an empty CSV field is NULL). Columns are matched by name.
 */
function sourceSelect(node: NodeDoc, schema: Column[], files: string[]): string {
  const list = `[${files.map(literal).join(', ')}]`;
  const dataType = node.dataType as string;
  if (files.length === 0) {
    // No object under the prefix: an empty input of the declared columns (inferred).
    return `SELECT ${schema.map((c) => `CAST(NULL AS ${c.duck}) AS ${ident(c.name)}`).join(', ')} WHERE false`;
  }
  if (dataType === 'CSV') {
    const types = `{${schema.map((c) => `${literal(c.name)}: ${literal(c.duck)}`).join(', ')}}`;
    return `SELECT ${schema.map((c) => ident(c.name)).join(', ')} FROM read_csv(${list}, header = true, types = ${types}${files.length > 1 ? ', union_by_name = true' : ''})`;
  }
  if (dataType === 'PARQUET') {
    const cols = schema.map((c) => `CAST(${ident(c.name)} AS ${c.duck}) AS ${ident(c.name)}`);
    return `SELECT ${cols.join(', ')} FROM read_parquet(${list}, union_by_name = true)`;
  }
  // JSON: whole documents (an array of objects, or objects); NDJSON: one object per line. The
  // declared columns are read with their types; a key a record lacks is NULL.
  const columns = `{${schema.map((c) => `${literal(c.name)}: ${literal(c.duck)}`).join(', ')}}`;
  const format = dataType === 'NDJSON' ? 'newline_delimited' : 'auto';
  return `SELECT ${schema.map((c) => ident(c.name)).join(', ')} FROM read_json(${list}, format = ${literal(format)}, columns = ${columns})`;
}

async function describe(conn: DuckDBConnection, query: string): Promise<Column[]> {
  const r = await conn.runAndReadAll(`DESCRIBE ${query}`);
  return r.getRowObjectsJson().map((row) => ({ name: row.column_name as string, duck: row.column_type as string }));
}

/**
 * The database is opened as soon as the process starts (a spare waits with it open); the
 * execution's threads, memory limit and temp directory are set when its plan arrives, before
 * the confinement is locked.
 */
const opened = (async () => {
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
  return instance.connect();
})();
opened.catch(() => undefined);

async function run(plan: EnginePlan): Promise<void> {
  const conn = await opened;
  const exec = async (text: string): Promise<bigint | number> => {
    // Sent as it runs (not awaited), so a run killed midway still leaves its script.
    process.send?.({ type: 'sql', text: [`${text};`] } satisfies EngineMessage);
    const r = await conn.runAndReadAll(text);
    // COPY answers one row, the number of rows written.
    return /^COPY /.test(text) ? Number(r.getRows()[0]?.[0] ?? 0) : r.currentRowCount;
  };
  await exec(`SET threads = ${plan.threads}`);
  await exec(`SET memory_limit = ${literal(plan.memoryLimit)}`);
  await exec(`SET temp_directory = ${literal(`${plan.workdir}/tmp`)}`);
  // The working directory ends with '/', so a sibling with the same leading name is not allowed.
  await exec(`SET allowed_directories = [${literal(`${plan.workdir}/`)}]`);
  await exec('SET enable_external_access = false');
  await exec('SET lock_configuration = true');

  // Each source and transform is a common table expression; each target is one COPY statement
  // whose WITH clause holds the nodes above it (one statement binds and plans the whole chain,
  // so a source is sniffed once per target, not once per node).
  const schemas = new Map<number, Schema>();
  const defs = new Map<number, string>();
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  const withFor = (ids: number[]): string => {
    const needed = new Set<number>();
    const visit = (id: number) => {
      if (needed.has(id)) return;
      needed.add(id);
      for (const p of byId.get(id)!.parentNodeIds) visit(p);
    };
    ids.forEach(visit);
    // plan.nodes is in topological order, so each CTE follows the ones it reads.
    const ctes = plan.nodes.filter((n) => needed.has(n.id)).map((n) => `${viewOf(n.id)} AS (\n  ${defs.get(n.id)!}\n)`);
    return ctes.length ? `WITH ${ctes.join(',\n')}\n` : '';
  };
  for (const node of plan.nodes) {
    const started = Date.now();
    try {
      const parents = node.parentNodeIds.map((id) => ({ id, schema: schemas.get(id)! }));
      const planned = planNode(node, parents);
      if (isSource(node.type)) {
        if (node.type === 'SOURCE_CATALOG') throw new Error(`${node.type} sources are not supported by this server`);
        const files = plan.inputs[String(node.id)] ?? [];
        // Database sources arrive as NDJSON written by the server (databases.ts).
        const asRead = node.type === 'SOURCE_OBS' ? node : { ...node, dataType: 'NDJSON' };
        defs.set(node.id, sourceSelect(asRead, planned.schema!, files));
        schemas.set(node.id, planned.schema);
        await send({ type: 'node', id: node.id, nodeType: node.type, ms: Date.now() - started, files: files.length });
      } else if (isTarget(node.type)) {
        if (node.type === 'TARGET_CATALOG') throw new Error(`${node.type} targets are not supported by this server`);
        const dir = plan.outputs[String(node.id)]!;
        // Database targets go back to the server as NDJSON (databases.ts inserts them).
        const dataType = node.type === 'TARGET_OBS' ? (node.dataType as string) : 'JSON';
        const ext = EXT[dataType]!;
        const options = dataType === 'PARQUET' ? 'FORMAT parquet' : dataType === 'CSV' ? 'FORMAT csv, HEADER true' : 'FORMAT json';
        const parts = typeof node.coalesce === 'number' ? node.coalesce : 1;
        const query = `${withFor(node.parentNodeIds)}${planned.select}`;
        let rows = 0;
        if (parts === 1) {
          rows = Number(await exec(`COPY (\n${query}\n) TO ${literal(`${dir}/part-00000.${ext}`)} (${options})`));
        } else {
          // `coalesce` files: rows dealt round-robin (in their order) into that many files.
          const table = ident(`t_${node.id}`);
          await exec(`CREATE TEMP TABLE ${table} AS SELECT *, (row_number() OVER () - 1) % ${parts} AS __part FROM (\n${query}\n)`);
          for (let i = 0; i < parts; i++) {
            const name = `${dir}/part-${String(i).padStart(5, '0')}.${ext}`;
            rows += Number(await exec(`COPY (SELECT * EXCLUDE (__part) FROM ${table} WHERE __part = ${i}) TO ${literal(name)} (${options})`));
          }
          await exec(`DROP TABLE ${table}`);
        }
        await send({ type: 'node', id: node.id, nodeType: node.type, ms: Date.now() - started, rows, files: parts });
      } else {
        defs.set(node.id, planned.select);
        // The planned schema is exact for every transform but SQL (unknown) and UNION (DuckDB
        // finds the parents' common types); those two are asked of DuckDB.
        const exact = planned.schema !== null && node.type !== 'TRANSFORM_UNION';
        schemas.set(node.id, exact ? planned.schema : await describe(conn, `${withFor([node.id])}SELECT * FROM ${viewOf(node.id)}`));
        await send({ type: 'node', id: node.id, nodeType: node.type, ms: Date.now() - started });
      }
    } catch (e) {
      await send({ type: 'error', nodeId: node.id, message: e instanceof Error ? e.message : String(e) });
      return;
    }
  }
  await send({ type: 'done' });
}

// The parent going away (killed, crashed) ends this process too. A process may be started ahead
// of need (a warm spare, DuckDB already loaded) and wait here for its plan.
process.title = 'stockade-dataflow-engine idle';
// SIGKILL, not exit(): exit() runs DuckDB's destructor, which waits for a running query's worker
// threads, so an engine mid-query outlived its killed server (seen under load in dataflow-crash).
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
process.once('message', (plan: EnginePlan) => {
  process.title = `stockade-dataflow-engine ${plan.executionId}`;
  run(plan)
    .catch((e: unknown) => send({ type: 'error', nodeId: null, message: e instanceof Error ? e.message : String(e) }))
    .finally(() => process.exit(0));
});
