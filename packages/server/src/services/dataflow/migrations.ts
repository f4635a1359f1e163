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
    id: '0002-executions',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      const s = trx.schema;
      await s
        .createTable('dataflow_executions')
        .addColumn('id', t.binaryText, (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('job_id', t.binaryText, (c) => c.notNull())
        .addColumn('job_name', 'text', (c) => c.notNull())
        .addColumn('job_type', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('condition', 'text', (c) => c.notNull())
        .addColumn('parameters', 'text', (c) => c.notNull())
        .addColumn('plan', 'text', (c) => c.notNull())
        .addColumn('executor_num', 'integer', (c) => c.notNull())
        .addColumn('trigger_id', 'text')
        .addColumn('trigger_name', 'text')
        .addColumn('workflow_id', 'text')
        .addColumn('error', 'text')
        .addColumn('task_id', t.bigint)
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('started_at', t.time)
        .addColumn('ended_at', t.time)
        .execute();
      await s.createIndex('dataflow_executions_job').on('dataflow_executions').columns(['account_id', 'job_id', 'created_at']).execute();
      // Job names are unique in an account (createJob with a taken name is 400, inferred).
      await s.createIndex('dataflow_jobs_name').on('dataflow_jobs').columns(['account_id', 'name']).unique().execute();
    },
  },
  {
    id: '0003-connections',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      await trx.schema
        .createTable('dataflow_connections')
        .addColumn('id', t.binaryText, (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('password_sealed', 'text')
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
    },
  },
  {
    id: '0004-catalog',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      await trx.schema
        .createTable('dataflow_catalog')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('database_name', 'text', (c) => c.notNull())
        .addColumn('table_name', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('field_list', 'text', (c) => c.notNull())
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('dataflow_catalog_pk', ['account_id', 'database_name', 'table_name', 'version'])
        .execute();
    },
  },
  {
    id: '0005-triggers',
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
  {
    id: '0006-workflows',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      await trx.schema
        .createTable('dataflow_workflows')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('nodes', 'text', (c) => c.notNull())
        .addColumn('is_temp', 'integer', (c) => c.notNull())
        .addColumn('trigger_id', 'text')
        .addColumn('last_execution_at', t.time)
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('updated_at', t.time, (c) => c.notNull())
        .execute();
      // Workflow names are unique in an account (as for jobs and triggers, inferred).
      await trx.schema.createIndex('dataflow_workflows_name').on('dataflow_workflows').columns(['account_id', 'name']).unique().execute();
      await trx.schema.createIndex('dataflow_workflows_account').on('dataflow_workflows').columns(['account_id', 'created_at']).execute();
      await trx.schema.createIndex('dataflow_workflows_trigger').on('dataflow_workflows').columns(['trigger_id']).execute();
      await trx.schema
        .createTable('dataflow_workflow_jobs')
        .addColumn('workflow_id', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('dataflow_workflow_jobs_pk', ['workflow_id', 'job_id'])
        .execute();
      await trx.schema.createIndex('dataflow_workflow_jobs_job').on('dataflow_workflow_jobs').columns(['account_id', 'job_id']).execute();
      // The dashboard's windows and getWorkflowExecutions read executions by account and time / by workflow.
      await trx.schema.createIndex('dataflow_executions_account_time').on('dataflow_executions').columns(['account_id', 'created_at']).execute();
      await trx.schema.createIndex('dataflow_executions_workflow').on('dataflow_executions').columns(['workflow_id', 'created_at']).execute();
    },
  },
];
