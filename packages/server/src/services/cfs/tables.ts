/** Cloud File Storage's tables (see store/tables.ts for the column kinds). */
import { col, defineTables, type DatabaseOf, type RowOf } from '../../store/tables.js';

export const cfsTables = defineTables({
  cfs_file_systems: {
    id: col.text(), // fsId, `cfs-` + 10 alphanumerics
    account_id: col.text(),
    name: col.text(),
    type: col.text(),
    protocol: col.text(),
    status: col.text(),
    vpc_id: col.text(),
    zone: col.text(),
    capacity_quota: col.bigint(),
    usage_bytes: col.bigint(),
    created_at: col.time(),
  },
  /** Tags of file systems, one row per tag (filterTag is a join, not a scan). */
  cfs_tags: {
    fs_id: col.text(),
    account_id: col.text(),
    tag_key: col.text(),
    tag_value: col.text(),
    seq: col.int(),
  },
});

export type CfsDatabase = DatabaseOf<typeof cfsTables>;
export type FileSystemRow = RowOf<(typeof cfsTables)['cfs_file_systems']>;
export interface Tag {
  tagKey: string;
  tagValue: string;
}
