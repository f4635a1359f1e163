/** Data Flow's migrations (owner `dataflow`), applied in the global order of platform/registry.ts. */
import { sqlTypes, type Migration } from '../../store/migrations.js';

export const migrations: readonly Migration[] = [
  {
    // Was part of version 1 of the number-based history.
    id: '0001-jobs',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      const s = trx.schema;

      await s
        .createTable('dataflow_jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('doc', 'text', (c) => c.notNull())
        .addColumn('last_execution_status', 'text')
        .addColumn('last_execution_at', t.time)
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .execute();
      await s.createIndex('dataflow_jobs_account').on('dataflow_jobs').columns(['account_id', 'created_at']).execute();
    },
  },
  {
    id: '0002-triggers',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      await trx.schema
        .createTable('dataflow_triggers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .execute();
      // A trigger's name is unique in its account (the spec is silent; as for jobs, §4.12, inferred).
      await trx.schema.createIndex('dataflow_triggers_name').on('dataflow_triggers').columns(['account_id', 'name']).unique().execute();
      await trx.schema.createIndex('dataflow_triggers_account').on('dataflow_triggers').columns(['account_id', 'created_at']).execute();
    },
  },
];
