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
    /** Bytes, 0 = no limit; the volume's row holds the same quota (and the usage). */
    capacity_quota: col.bigint(),
    /** The platform volume holding the files (`volumes.id`). */
    volume_id: col.text(),
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
  /** Mount targets: each makes its file system an NFS export (one export per file system). */
  cfs_mount_targets: {
    id: col.text(), // mountId, 48 lower-case hex digits
    fs_id: col.text(),
    account_id: col.text(),
    vpc_id: col.text(),
    subnet_id: col.text(),
    /** Its address in the subnet; unique per subnet. */
    ovip: col.text(),
    /** The bound access group's name (in the same account). */
    access_group: col.text(),
    created_at: col.time(),
  },
  cfs_access_groups: {
    account_id: col.text(),
    name: col.text(),
    description: col.text(),
    /** The id the next rule of this group gets (ids are per group, from 1). */
    next_rule_id: col.int(),
    created_at: col.time(),
  },
  cfs_access_rules: {
    account_id: col.text(),
    group_name: col.text(),
    id: col.int(),
    ip: col.text(),
    mask: col.int(),
    write_access: col.text<'read_only' | 'read_write'>(),
    user_access: col.text<'no_squash' | 'root_squash' | 'all_squash'>(),
    priority: col.int(),
    created_at: col.time(),
  },
});

export type CfsDatabase = DatabaseOf<typeof cfsTables>;
export type FileSystemRow = RowOf<(typeof cfsTables)['cfs_file_systems']>;
export type MountTargetRow = RowOf<(typeof cfsTables)['cfs_mount_targets']>;
export type AccessGroupRow = RowOf<(typeof cfsTables)['cfs_access_groups']>;
export type AccessRuleRow = RowOf<(typeof cfsTables)['cfs_access_rules']>;
export interface Tag {
  tagKey: string;
  tagValue: string;
}
