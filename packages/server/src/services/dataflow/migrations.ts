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
];
