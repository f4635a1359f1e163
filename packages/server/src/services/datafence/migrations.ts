/** Datafence's migrations (owner `datafence`), applied in the global order of platform/registry.ts. */
import { sql } from 'kysely';
import { sqlTypes, type Migration } from '../../store/migrations.js';

export const migrations: readonly Migration[] = [
  {
    // Was part of version 1 of the number-based history.
    id: '0001-fences',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      const s = trx.schema;

      await s
        .createTable('fences')
        .addColumn('id', t.autoId)
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('export_bucket', 'text', (c) => c.notNull())
        .addColumn('ssl_vpn_name', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await s.createIndex('fences_account').on('fences').columns(['account_id', 'id']).execute();

      await s
        .createTable('custom_images')
        .addColumn('image_no', t.autoId)
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('fence_id', t.bigint, (c) => c.notNull())
        .addColumn('image_name', 'text', (c) => c.notNull())
        .addColumn('product_code', 'text', (c) => c.notNull())
        .addColumn('base_server_name', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await s.createIndex('custom_images_fence').on('custom_images').columns(['fence_id', 'product_code']).execute();
    },
  },
  {
    // Boxes and the infrastructure of fences and boxes, with their histories; box-user keys bound
    // to boxes; the provisioner's number sequences.
    id: '0002-boxes',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      const s = trx.schema;
      await sql`alter table fences add column box_seq ${sql.raw(t.bigint)} not null default 0`.execute(trx);
      await sql`alter table fences add column version ${sql.raw(t.bigint)} not null default 0`.execute(trx);

      await s
        .createTable('boxes')
        .addColumn('id', t.autoId)
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('fence_id', t.bigint, (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('version', t.bigint, (c) => c.notNull())
        .addColumn('web_block', 'integer', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('ended_at', t.time)
        .execute();
      await s.createIndex('boxes_fence').on('boxes').columns(['fence_id', 'id']).execute();

      await s
        .createTable('infra')
        .addColumn('id', t.autoId)
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('fence_id', t.bigint, (c) => c.notNull())
        .addColumn('box_id', t.bigint)
        .addColumn('infra_type', 'text', (c) => c.notNull())
        .addColumn('instance_no', t.bigint, (c) => c.notNull().unique())
        .addColumn('instance_name', 'text', (c) => c.notNull())
        .addColumn('spec_code', 'text', (c) => c.notNull())
        .addColumn('software_code', 'text', (c) => c.notNull())
        .addColumn('block_storage_no', t.bigint)
        .addColumn('block_storage_size', 'integer')
        .addColumn('private_ip', 'text', (c) => c.notNull())
        .addColumn('public_ip', 'text', (c) => c.notNull())
        .addColumn('nas_size', 'integer')
        .addColumn('storage_id', t.bigint)
        .addColumn('volume_id', 'text')
        .addColumn('detail', 'text')
        .addColumn('passwords_enc', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('ended_at', t.time)
        .execute();
      await s.createIndex('infra_fence_box').on('infra').columns(['fence_id', 'box_id', 'id']).execute();

      await s
        .createTable('infra_history')
        .addColumn('id', t.autoId)
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('fence_id', t.bigint, (c) => c.notNull())
        .addColumn('box_id', t.bigint)
        .addColumn('infra_id', t.bigint)
        .addColumn('infra_type', 'text', (c) => c.notNull())
        .addColumn('instance_no', t.bigint, (c) => c.notNull())
        .addColumn('instance_name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('at', t.time, (c) => c.notNull())
        .execute();
      await s.createIndex('infra_history_fence_box').on('infra_history').columns(['fence_id', 'box_id', 'id']).execute();

      await s
        .createTable('box_key_bindings')
        .addColumn('access_key_id', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('box_id', t.bigint, (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('box_key_bindings_pk', ['access_key_id', 'box_id'])
        .execute();

      await s
        .createTable('datafence_counters')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', t.bigint, (c) => c.notNull())
        .execute();
    },
  },
  {
    // Issue 9: import and export requests, and the reviewers' votes.
    id: '0002-airlock',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      const s = trx.schema;
      await s
        .createTable('datafence_imports')
        .addColumn('id', t.autoId)
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('fence_id', t.bigint, (c) => c.notNull())
        .addColumn('box_id', t.bigint, (c) => c.notNull())
        .addColumn('requester_key', 'text', (c) => c.notNull())
        .addColumn('requester_name', 'text', (c) => c.notNull())
        .addColumn('source_bucket', 'text', (c) => c.notNull())
        .addColumn('source_key', 'text', (c) => c.notNull())
        .addColumn('nas_instance_no', t.bigint, (c) => c.notNull())
        .addColumn('nas_name', 'text', (c) => c.notNull())
        .addColumn('target_path', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('size', t.bigint)
        .addColumn('sha256', 'text')
        .addColumn('error', 'text')
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('completed_at', t.time)
        .execute();
      await s.createIndex('datafence_imports_box').on('datafence_imports').columns(['box_id', 'id']).execute();
      await s
        .createTable('datafence_exports')
        .addColumn('id', t.autoId)
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('fence_id', t.bigint, (c) => c.notNull())
        .addColumn('box_id', t.bigint, (c) => c.notNull())
        .addColumn('requester_user_id', 'text', (c) => c.notNull())
        .addColumn('requester_name', 'text', (c) => c.notNull())
        .addColumn('requester_key', 'text', (c) => c.notNull())
        .addColumn('nas_instance_no', t.bigint, (c) => c.notNull())
        .addColumn('nas_name', 'text', (c) => c.notNull())
        .addColumn('source_path', 'text', (c) => c.notNull())
        .addColumn('target_bucket', 'text', (c) => c.notNull())
        .addColumn('review_bucket', 'text', (c) => c.notNull())
        .addColumn('screen_path', 'text', (c) => c.notNull())
        .addColumn('file_description', 'text', (c) => c.notNull())
        .addColumn('export_purpose', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('approvals_required', 'integer', (c) => c.notNull())
        .addColumn('size', t.bigint)
        .addColumn('sha256', 'text')
        .addColumn('reject_reason', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('result_at', t.time)
        .addColumn('completed_at', t.time)
        .execute();
      await s.createIndex('datafence_exports_box').on('datafence_exports').columns(['box_id', 'id']).execute();
      await s
        .createTable('datafence_export_votes')
        .addColumn('export_id', t.bigint, (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('vote', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('at', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('datafence_export_votes_pk', ['export_id', 'user_id'])
        .execute();
    },
  },
];
