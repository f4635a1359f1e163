/** Cloud File Storage's migrations (owner `cfs`), applied in the global order of platform/registry.ts. */
import { sql } from 'kysely';
import { sqlTypes, type Migration } from '../../store/migrations.js';

export const migrations: readonly Migration[] = [
  {
    // Was part of version 1 of the number-based history.
    id: '0001-file-systems',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      const s = trx.schema;

      await s
        .createTable('cfs_file_systems')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('protocol', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('vpc_id', 'text', (c) => c.notNull())
        .addColumn('zone', 'text', (c) => c.notNull())
        .addColumn('capacity_quota', t.bigint, (c) => c.notNull())
        .addColumn('usage_bytes', t.bigint, (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await s.createIndex('cfs_file_systems_account').on('cfs_file_systems').columns(['account_id', 'id']).execute();
    },
  },
  {
    // Tags in their own table, so that filterTag filters in SQL; the JSON column goes.
    id: '0002-tags',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      await trx.schema
        .createTable('cfs_tags')
        .addColumn('fs_id', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('tag_key', t.binaryText, (c) => c.notNull())
        .addColumn('tag_value', t.binaryText, (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('cfs_tags_pk', ['fs_id', 'seq'])
        .execute();
      await trx.schema.createIndex('cfs_tags_account_key').on('cfs_tags').columns(['account_id', 'tag_key', 'tag_value']).execute();
      const rows = await trx.selectFrom('cfs_file_systems').select(['id', 'account_id', 'tags']).execute();
      for (const r of rows as Array<{ id: string; account_id: string; tags: string }>) {
        const tags = JSON.parse(r.tags) as Array<{ tagKey: string; tagValue: string }>;
        for (const [seq, tag] of tags.entries()) {
          await trx
            .insertInto('cfs_tags')
            .values({ fs_id: r.id, account_id: r.account_id, tag_key: tag.tagKey, tag_value: tag.tagValue, seq })
            .execute();
        }
      }
      await sql`alter table cfs_file_systems drop column tags`.execute(trx);
      // Marker paging compares and orders ids: byte order on both dialects.
      if (dialect === 'postgres') await sql`alter table cfs_file_systems alter column id type text collate "C"`.execute(trx);
    },
  },
];
