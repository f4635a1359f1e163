/** Data Flow's tables (see store/tables.ts for the column kinds). */
import { col, defineTables, type DatabaseOf, type RowOf } from '../../store/tables.js';

export const dataflowTables = defineTables({
  /** Jobs; `doc` holds `{ nodes, runCondition, maxConcurrentRuns }` as JSON. */
  dataflow_jobs: {
    id: col.text(), // 12-character jobId
    account_id: col.text(),
    name: col.text(),
    description: col.text(),
    type: col.text(),
    status: col.text(),
    doc: col.json(),
    last_execution_status: col.text().orNull(),
    last_execution_at: col.time().orNull(),
    created_at: col.time(),
    updated_at: col.time(),
  },
  /**
   * Job executions (§1.5). `condition` is the effective jobCondition (JSON), `parameters` the
   * parsed parameters (JSON), `plan` the job's nodes as they were when the run was accepted (a job
   * changed later does not change a run already queued), `log` the run's summary (rows per node,
   * timings, error) once it ended.
   */
  dataflow_executions: {
    id: col.text(), // 12-character jobExecutionId
    account_id: col.text(),
    job_id: col.text(),
    job_name: col.text(),
    job_type: col.text(),
    type: col.text(), // JOB | WORKFLOW
    status: col.text(),
    condition: col.json(),
    parameters: col.json(),
    plan: col.json(),
    executor_num: col.int(),
    trigger_id: col.text().orNull(),
    trigger_name: col.text().orNull(),
    workflow_id: col.text().orNull(),
    error: col.text().orNull(),
    /** The durable task that runs it (platform `tasks.id`). */
    task_id: col.bigint().orNull(),
    created_at: col.time(),
    started_at: col.time().orNull(),
    ended_at: col.time().orNull(),
  },
  /**
   * Database connections that SOURCE_/TARGET_CDB_* nodes name by `connectionId` (managed with
   * `stockade connections`; on NCP they live in Data Catalog). `url` has no password; the password
   * is sealed under Data Flow's own key (`password_sealed`).
   */
  dataflow_connections: {
    id: col.text(),
    account_id: col.text(),
    type: col.text(), // postgresql | mysql
    url: col.text(),
    password_sealed: col.text().orNull(),
    created_at: col.time(),
  },
  /**
   * The built-in Data Catalog (SOURCE_/TARGET_CATALOG): one row per schema version of a table.
   * A table's data is Parquet under `{bucket}/catalog/{database}/{table}/`, shared by its versions.
   */
  dataflow_catalog: {
    account_id: col.text(),
    database_name: col.text(),
    table_name: col.text(),
    version: col.text(),
    field_list: col.json(),
    bucket: col.text(),
    created_at: col.time(),
  },
  /** Triggers (§1.6); `rule` is the `triggerRule` as answered (only the fields its type uses). */
  dataflow_triggers: {
    id: col.text(), // 12-character triggerId
    account_id: col.text(),
    name: col.text(),
    type: col.text(),
    rule: col.json(),
    created_at: col.time(),
    updated_at: col.time(),
  },
  /**
   * Workflows (§1.7); `nodes` is the node list as saved (JSON). `trigger_id` is the TRIGGER node's
   * trigger (null in a draft without one): the scheduler finds a trigger's workflows by it.
   */
  dataflow_workflows: {
    id: col.text(), // 12-character workflowId
    account_id: col.text(),
    name: col.text(),
    nodes: col.json(),
    is_temp: col.int(), // 0 | 1
    trigger_id: col.text().orNull(),
    last_execution_at: col.time().orNull(),
    created_at: col.time(),
    updated_at: col.time(),
  },
  /** The jobs a workflow's JOB nodes name, one row each: "is this job used by a workflow" in SQL. */
  dataflow_workflow_jobs: {
    workflow_id: col.text(),
    account_id: col.text(),
    job_id: col.text(),
  },
});

export type DataflowDatabase = DatabaseOf<typeof dataflowTables>;
export type JobRow = RowOf<(typeof dataflowTables)['dataflow_jobs']>;
export type ExecutionRow = RowOf<(typeof dataflowTables)['dataflow_executions']>;
export type ConnectionRow = RowOf<(typeof dataflowTables)['dataflow_connections']>;
export type CatalogRow = RowOf<(typeof dataflowTables)['dataflow_catalog']>;
export type TriggerRow = RowOf<(typeof dataflowTables)['dataflow_triggers']>;
export type WorkflowRow = RowOf<(typeof dataflowTables)['dataflow_workflows']>;
