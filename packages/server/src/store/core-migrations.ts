/**
 * The platform's migrations (owner `core`). Services keep theirs in their folders; the registry
 * (platform/registry.ts) puts these first in the global order.
 */
import { sql } from 'kysely';
import { sqlTypes, type Migration } from './migrations.js';
import { auditSchemaV1 } from './audit.js';

export const coreMigrations: readonly Migration[] = [
  {
    // Was part of version 1 of the number-based history (the service tables of that version now
    // belong to their services' first migrations).
    id: '0001-initial',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      const s = trx.schema;

      await s
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();

      await s
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('owner', 'fence-admin', 'box-user')`))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await s.createIndex('users_account_name').on('users').columns(['account_id', 'name']).unique().execute();

      await s
        .createTable('access_keys')
        .addColumn('access_key_id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('secret_enc', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'revoked')`))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('revoked_at', t.time)
        .execute();
      await s.createIndex('access_keys_user').on('access_keys').column('user_id').execute();
      await s.createIndex('access_keys_account').on('access_keys').column('account_id').execute();

      await s
        .createTable('tasks')
        .addColumn('id', t.autoId)
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) =>
          c.notNull().check(sql`state in ('queued', 'running', 'done', 'failed')`),
        )
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('due_at', t.time, (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', t.time)
        .addColumn('last_error', 'text')
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('finished_at', t.time)
        .execute();
      await s.createIndex('tasks_state_due').on('tasks').columns(['state', 'due_at']).execute();
      await s.createIndex('tasks_state_lease').on('tasks').columns(['state', 'lease_expires_at']).execute();

      await s
        .createTable('blobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('size', t.bigint, (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();

      await s
        .createTable('idempotency')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('token', 'text', (c) => c.notNull())
        .addColumn('params_hash', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'done')`))
        .addColumn('status', 'integer')
        .addColumn('response', 'text')
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_pk', ['account_id', 'operation', 'token'])
        .execute();
      await s.createIndex('idempotency_expires').on('idempotency').column('expires_at').execute();

      await s
        .createTable('audit_events')
        .addColumn('id', t.autoId)
        .addColumn('at', t.time, (c) => c.notNull())
        .addColumn('account_id', 'text')
        .addColumn('actor', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('resource', 'text')
        .addColumn('detail', 'text')
        .execute();
      await s.createIndex('audit_events_account_at').on('audit_events').columns(['account_id', 'at']).execute();
      await s.createIndex('audit_events_at').on('audit_events').column('at').execute();

      await s
        .createTable('probe_runs')
        .addColumn('id', t.autoId)
        .addColumn('task_id', t.bigint, (c) => c.notNull())
        .addColumn('runner', 'text', (c) => c.notNull())
        .addColumn('finished_at', t.time, (c) => c.notNull())
        .execute();
      await s.createIndex('probe_runs_task').on('probe_runs').column('task_id').execute();
    },
  },
  {
    // Tasks that commit exactly once: dedupe keys, cancellation, progress, the `canceled` state.
    id: '0002-tasks-dedupe-cancel-progress',
    async up(trx, dialect) {
      if (dialect === 'postgres') {
        await sql`alter table tasks drop constraint if exists tasks_state_check`.execute(trx);
        await sql`alter table tasks add constraint tasks_state_check check (state in ('queued', 'running', 'done', 'failed', 'canceled'))`.execute(trx);
        await sql`alter table tasks add column dedupe_key text`.execute(trx);
        await sql`alter table tasks add column cancel_requested integer not null default 0`.execute(trx);
        await sql`alter table tasks add column progress text`.execute(trx);
      } else {
        // SQLite cannot change a check constraint: rebuild the table (ids kept, so the
        // autoincrement sequence continues after the highest one).
        const t = sqlTypes(dialect);
        await trx.schema
          .createTable('tasks_v2')
          .addColumn('id', t.autoId)
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) =>
            c.notNull().check(sql`state in ('queued', 'running', 'done', 'failed', 'canceled')`),
          )
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('max_attempts', 'integer', (c) => c.notNull())
          .addColumn('due_at', t.time, (c) => c.notNull())
          .addColumn('lease_owner', 'text')
          .addColumn('lease_expires_at', t.time)
          .addColumn('last_error', 'text')
          .addColumn('created_at', t.time, (c) => c.notNull())
          .addColumn('finished_at', t.time)
          .addColumn('dedupe_key', 'text')
          .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('progress', 'text')
          .execute();
        await sql`insert into tasks_v2 (id, kind, payload, state, attempts, max_attempts, due_at, lease_owner,
          lease_expires_at, last_error, created_at, finished_at)
          select id, kind, payload, state, attempts, max_attempts, due_at, lease_owner, lease_expires_at,
          last_error, created_at, finished_at from tasks`.execute(trx);
        await trx.schema.dropTable('tasks').execute();
        await sql`alter table tasks_v2 rename to tasks`.execute(trx);
        await trx.schema.createIndex('tasks_state_due').on('tasks').columns(['state', 'due_at']).execute();
        await trx.schema.createIndex('tasks_state_lease').on('tasks').columns(['state', 'lease_expires_at']).execute();
      }
      await trx.schema.createIndex('tasks_dedupe_key').on('tasks').column('dedupe_key').unique().execute();
      await trx.schema.createIndex('tasks_kind_state_due').on('tasks').columns(['kind', 'state', 'due_at']).execute();
      await trx.schema.createIndex('tasks_finished').on('tasks').column('finished_at').execute();
    },
  },
  {
    id: '0003-volumes',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      await trx.schema
        .createTable('volumes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('quota_bytes', t.bigint, (c) => c.notNull().check(sql`quota_bytes >= 0`))
        .addColumn('used_bytes', t.bigint, (c) => c.notNull())
        .addColumn('measured_at', t.time)
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await trx.schema.createIndex('volumes_service_account').on('volumes').columns(['service', 'account_id']).execute();
      // Databases from the number-based history have it already.
      await trx.schema
        .createTable('meta')
        .ifNotExists()
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    // Was version 3 of the number-based history: the hash-chained audit log.
    id: '0004-audit-chain',
    up: (trx, dialect) => auditSchemaV1(trx, dialect),
  },
];

/** What a `meta.schema_version` of the number-based history stands for (see migrations.ts). */
export const LEGACY_SCHEMA_VERSIONS: Record<number, readonly string[]> = {
  1: ['core/0001-initial', 'datafence/0001-fences', 'dataflow/0001-jobs', 'cfs/0001-file-systems'],
  2: ['s3/0001-object-storage'],
};
