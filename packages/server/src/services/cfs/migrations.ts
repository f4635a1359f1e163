/** Cloud File Storage's migrations (owner `cfs`), applied in the global order of platform/registry.ts. */
import { randomBytes } from 'node:crypto';
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
  {
    // Real file systems: each one's files live in a platform volume (quota and usage are the
    // volume's); mount targets, access groups and rules. The file system table is rebuilt (SQLite
    // cannot add a NOT NULL column without a default): rows of earlier versions get a volume.
    id: '0003-volumes-mount-targets-access-groups',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      const s = trx.schema;
      await s
        .createTable('cfs_file_systems_v3')
        .addColumn('id', t.binaryText, (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('protocol', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('vpc_id', 'text', (c) => c.notNull())
        .addColumn('zone', 'text', (c) => c.notNull())
        .addColumn('capacity_quota', t.bigint, (c) => c.notNull())
        .addColumn('volume_id', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      const old = (await trx.selectFrom('cfs_file_systems').selectAll().execute()) as Array<Record<string, unknown>>;
      const now = Date.now();
      for (const r of old) {
        const volumeId = `cfs-${randomBytes(8).toString('hex')}`;
        await trx
          .insertInto('volumes')
          .values({
            id: volumeId,
            service: 'cfs',
            account_id: r.account_id,
            quota_bytes: r.capacity_quota,
            used_bytes: r.usage_bytes,
            measured_at: null,
            created_at: now,
          })
          .execute();
        const { usage_bytes: _usage, ...keep } = r;
        await trx.insertInto('cfs_file_systems_v3').values({ ...keep, volume_id: volumeId }).execute();
      }
      await s.dropTable('cfs_file_systems').execute();
      await s.alterTable('cfs_file_systems_v3').renameTo('cfs_file_systems').execute();
      await s.createIndex('cfs_file_systems_account').on('cfs_file_systems').columns(['account_id', 'id']).execute();

      await s
        .createTable('cfs_mount_targets')
        .addColumn('id', t.binaryText, (c) => c.primaryKey())
        .addColumn('fs_id', t.binaryText, (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('vpc_id', 'text', (c) => c.notNull())
        .addColumn('subnet_id', 'text', (c) => c.notNull())
        .addColumn('ovip', 'text', (c) => c.notNull())
        .addColumn('access_group', t.binaryText, (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addUniqueConstraint('cfs_mount_targets_fs_subnet', ['fs_id', 'subnet_id'])
        .addUniqueConstraint('cfs_mount_targets_subnet_ovip', ['subnet_id', 'ovip'])
        .execute();
      await s.createIndex('cfs_mount_targets_fs').on('cfs_mount_targets').columns(['fs_id', 'id']).execute();
      await s.createIndex('cfs_mount_targets_group').on('cfs_mount_targets').columns(['account_id', 'access_group']).execute();

      await s
        .createTable('cfs_access_groups')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('name', t.binaryText, (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('next_rule_id', 'integer', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('cfs_access_groups_pk', ['account_id', 'name'])
        .execute();
      await s
        .createTable('cfs_access_rules')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('group_name', t.binaryText, (c) => c.notNull())
        .addColumn('id', 'integer', (c) => c.notNull())
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('mask', 'integer', (c) => c.notNull())
        .addColumn('write_access', 'text', (c) => c.notNull())
        .addColumn('user_access', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('cfs_access_rules_pk', ['account_id', 'group_name', 'id'])
        .execute();
      // Every account has the default access group (new accounts get it from onAccountCreated).
      for (const a of (await trx.selectFrom('accounts').select('id').execute()) as Array<{ id: string }>) {
        await trx
          .insertInto('cfs_access_groups')
          .values({ account_id: a.id, name: 'DEFAULT_ACCESS_GROUP_NAME', description: '', next_rule_id: 2, created_at: now })
          .execute();
        await trx
          .insertInto('cfs_access_rules')
          .values({
            account_id: a.id,
            group_name: 'DEFAULT_ACCESS_GROUP_NAME',
            id: 1,
            ip: '0.0.0.0',
            mask: 0,
            write_access: 'read_write',
            user_access: 'no_squash',
            priority: 100,
            created_at: now,
          })
          .execute();
      }
    },
  },
];
