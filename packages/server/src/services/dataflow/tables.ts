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
});

export type DataflowDatabase = DatabaseOf<typeof dataflowTables>;
export type JobRow = RowOf<(typeof dataflowTables)['dataflow_jobs']>;
export type TriggerRow = RowOf<(typeof dataflowTables)['dataflow_triggers']>;
