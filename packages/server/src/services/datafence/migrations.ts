/** Datafence's migrations (owner `datafence`), applied in the global order of platform/registry.ts. */
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
];
