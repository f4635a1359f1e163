/** Object Storage's migrations (owner `s3`), applied in the global order of platform/registry.ts. */
import { sqlTypes, type Migration } from '../../store/migrations.js';

export const migrations: readonly Migration[] = [
  {
    // Was version 2 of the number-based history.
    id: '0001-object-storage',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      const s = trx.schema;
      // Object keys sort in UTF-8 byte order, as S3 lists them: SQLite's default BINARY collation
      // compares UTF-8 bytes; PostgreSQL needs the "C" collation.
      const keyType = t.binaryText;

      await s
        .createTable('s3_buckets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await s.createIndex('s3_buckets_account').on('s3_buckets').columns(['account_id', 'name']).execute();

      await s
        .createTable('s3_objects')
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('key', keyType, (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull().unique())
        .addColumn('size', t.bigint, (c) => c.notNull())
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('checksums', 'text', (c) => c.notNull())
        .addColumn('checksum_type', 'text')
        .addColumn('part_count', 'integer')
        .addColumn('last_modified', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('s3_objects_pk', ['bucket', 'key'])
        .execute();

      await s
        .createTable('s3_object_blobs')
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('blob_id', 'text', (c) => c.notNull())
        .addColumn('size', t.bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('s3_object_blobs_pk', ['version', 'seq'])
        .execute();

      await s
        .createTable('s3_uploads')
        .addColumn('upload_id', 'text', (c) => c.primaryKey())
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('key', keyType, (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('initiator', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('checksum_algorithm', 'text')
        .addColumn('checksum_type', 'text')
        .addColumn('initiated_at', t.time, (c) => c.notNull())
        .execute();
      await s.createIndex('s3_uploads_bucket_key').on('s3_uploads').columns(['bucket', 'key', 'upload_id']).execute();

      await s
        .createTable('s3_parts')
        .addColumn('upload_id', 'text', (c) => c.notNull())
        .addColumn('part_number', 'integer', (c) => c.notNull())
        .addColumn('blob_id', 'text', (c) => c.notNull())
        .addColumn('size', t.bigint, (c) => c.notNull())
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('checksums', 'text', (c) => c.notNull())
        .addColumn('last_modified', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('s3_parts_pk', ['upload_id', 'part_number'])
        .execute();
    },
  },
  {
    // Datafence's export-review buckets (issue 9): written only by Datafence, read audited.
    id: '0002-sealed-buckets',
    async up(trx, dialect) {
      const t = sqlTypes(dialect);
      await trx.schema.alterTable('s3_buckets').addColumn('sealed_fence_id', t.bigint).execute();
    },
  },
];
