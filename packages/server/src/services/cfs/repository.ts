/** All of CFS's SQL. Methods take the database or a transaction. */
import { sql, type Kysely } from 'kysely';
import type { Store } from '../../store/db.js';
import { asDb, type CoreDatabase, type Executor } from '../../store/schema.js';
import type { AccessGroupRow, AccessRuleRow, CfsDatabase, FileSystemRow, MountTargetRow, Tag } from './tables.js';

type Db = CfsDatabase & Pick<CoreDatabase, 'volumes'>;

export interface FileSystemFilter {
  accountId: string;
  /** Exact ids (at most 100). */
  ids?: string[];
  /** First id of the page (the previous page's `nextMarker`). */
  marker?: string;
  /** A tag key, and its value unless any value matches. */
  tag?: { key: string; value?: string };
  limit: number;
}

/** A file system with its volume's usage. */
export type FileSystemView = FileSystemRow & { used_bytes: number };

export type RuleFields = Pick<AccessRuleRow, 'ip' | 'mask' | 'write_access' | 'user_access' | 'priority'>;

/** What the NFS server exports: one file system, its volume and the rules of each of its mount targets. */
export interface ExportSource {
  fsId: string;
  volumeId: string;
  quotaBytes: number;
  usedBytes: number;
  mountTargets: Array<{ mountId: string; vpcId: string; subnetId: string; rules: RuleFields[] }>;
}

export class CfsRepository {
  constructor(private readonly store: Store) {}

  private db(e: Executor = this.store.db): Kysely<Db> {
    return asDb<Db>(e);
  }

  /**
   * PostgreSQL: a transaction-scoped lock on `key` (in this schema), so that a check and the insert
   * it allows are not interleaved with another transaction's. SQLite has one writer at a time.
   */
  async lock(trx: Executor, key: string): Promise<void> {
    if (this.store.dialect !== 'postgres') return;
    await sql`select pg_advisory_xact_lock(hashtext(${`stockade.cfs.${key}.`}::text || current_schema()))`.execute(trx);
  }

  // ---- file systems ----

  private fsQuery(e?: Executor) {
    return this.db(e)
      .selectFrom('cfs_file_systems')
      .leftJoin('volumes', 'volumes.id', 'cfs_file_systems.volume_id')
      .selectAll('cfs_file_systems')
      .select((eb) => eb.fn.coalesce('volumes.used_bytes', eb.lit(0)).as('used_bytes'));
  }

  private static view(r: FileSystemRow & { used_bytes: number | string | bigint }): FileSystemView {
    return { ...r, capacity_quota: Number(r.capacity_quota), created_at: Number(r.created_at), used_bytes: Number(r.used_bytes) };
  }

  /** File systems from the marker on, in id order (byte order on both dialects), up to `limit`. */
  async listFileSystems(f: FileSystemFilter, e?: Executor): Promise<FileSystemView[]> {
    let q = this.fsQuery(e).where('cfs_file_systems.account_id', '=', f.accountId);
    if (f.ids?.length) q = q.where('cfs_file_systems.id', 'in', f.ids);
    if (f.marker) q = q.where('cfs_file_systems.id', '>=', f.marker);
    const tag = f.tag;
    if (tag) {
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('cfs_tags')
            .select('cfs_tags.fs_id')
            .whereRef('cfs_tags.fs_id', '=', 'cfs_file_systems.id')
            .where('cfs_tags.tag_key', '=', tag.key)
            .$if(tag.value !== undefined, (sq) => sq.where('cfs_tags.tag_value', '=', tag.value!)),
        ),
      );
    }
    return (await q.orderBy('cfs_file_systems.id').limit(f.limit).execute()).map((r) => CfsRepository.view(r));
  }

  async getFileSystem(accountId: string, fsId: string, e?: Executor): Promise<FileSystemView | undefined> {
    const r = await this.fsQuery(e).where('cfs_file_systems.account_id', '=', accountId).where('cfs_file_systems.id', '=', fsId).executeTakeFirst();
    return r && CfsRepository.view(r);
  }

  async countFileSystems(accountId: string, e?: Executor): Promise<number> {
    const r = await this.db(e)
      .selectFrom('cfs_file_systems')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Volume ids of every file system (all accounts), for measuring. */
  async allVolumeIds(e?: Executor): Promise<string[]> {
    return (await this.db(e).selectFrom('cfs_file_systems').select('volume_id').orderBy('volume_id').execute()).map((r) => r.volume_id);
  }

  async insertFileSystem(trx: Executor, row: FileSystemRow, tags: Tag[]): Promise<void> {
    await this.db(trx).insertInto('cfs_file_systems').values(row).execute();
    await this.replaceTags(trx, row.id, row.account_id, tags);
  }

  async updateFileSystem(trx: Executor, accountId: string, fsId: string, set: { name?: string; capacity_quota?: number }): Promise<void> {
    if (Object.keys(set).length === 0) return;
    await this.db(trx).updateTable('cfs_file_systems').set(set).where('account_id', '=', accountId).where('id', '=', fsId).execute();
  }

  async deleteFileSystem(trx: Executor, accountId: string, fsId: string): Promise<void> {
    const db = this.db(trx);
    await db.deleteFrom('cfs_tags').where('fs_id', '=', fsId).where('account_id', '=', accountId).execute();
    await db.deleteFrom('cfs_file_systems').where('account_id', '=', accountId).where('id', '=', fsId).execute();
  }

  /** Tags of the given file systems, in their order. */
  async tagsOf(fsIds: string[], e?: Executor): Promise<Map<string, Tag[]>> {
    const out = new Map<string, Tag[]>(fsIds.map((id) => [id, []]));
    if (fsIds.length === 0) return out;
    const rows = await this.db(e).selectFrom('cfs_tags').selectAll().where('fs_id', 'in', fsIds).orderBy('fs_id').orderBy('seq').execute();
    for (const r of rows) out.get(r.fs_id)?.push({ tagKey: r.tag_key, tagValue: r.tag_value });
    return out;
  }

  async replaceTags(trx: Executor, fsId: string, accountId: string, tags: Tag[]): Promise<void> {
    const db = this.db(trx);
    await db.deleteFrom('cfs_tags').where('fs_id', '=', fsId).execute();
    if (tags.length === 0) return;
    await db
      .insertInto('cfs_tags')
      .values(tags.map((t, seq) => ({ fs_id: fsId, account_id: accountId, tag_key: t.tagKey, tag_value: t.tagValue, seq })))
      .execute();
  }

  // ---- mount targets ----

  /** Mount targets of the given file systems, by file system, each in id order. */
  async mountTargetsOf(fsIds: string[], e?: Executor): Promise<Map<string, MountTargetRow[]>> {
    const out = new Map<string, MountTargetRow[]>(fsIds.map((id) => [id, []]));
    if (fsIds.length === 0) return out;
    const rows = await this.db(e).selectFrom('cfs_mount_targets').selectAll().where('fs_id', 'in', fsIds).orderBy('fs_id').orderBy('id').execute();
    for (const r of rows) out.get(r.fs_id)?.push(r);
    return out;
  }

  /** A file system's mount targets from the marker on, in id order, up to `limit`. */
  async listMountTargets(
    f: { accountId: string; fsId: string; mountId?: string; marker?: string; limit: number },
    e?: Executor,
  ): Promise<MountTargetRow[]> {
    let q = this.db(e).selectFrom('cfs_mount_targets').selectAll().where('account_id', '=', f.accountId).where('fs_id', '=', f.fsId);
    if (f.mountId) q = q.where('id', '=', f.mountId);
    if (f.marker) q = q.where('id', '>=', f.marker);
    return q.orderBy('id').limit(f.limit).execute();
  }

  async getMountTarget(accountId: string, fsId: string, mountId: string, e?: Executor): Promise<MountTargetRow | undefined> {
    return this.db(e)
      .selectFrom('cfs_mount_targets')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('fs_id', '=', fsId)
      .where('id', '=', mountId)
      .executeTakeFirst();
  }

  async hasMountTargets(accountId: string, fsId: string, e?: Executor): Promise<boolean> {
    const r = await this.db(e).selectFrom('cfs_mount_targets').select('id').where('account_id', '=', accountId).where('fs_id', '=', fsId).limit(1).executeTakeFirst();
    return r !== undefined;
  }

  async mountTargetInSubnet(fsId: string, subnetId: string, e?: Executor): Promise<boolean> {
    const r = await this.db(e).selectFrom('cfs_mount_targets').select('id').where('fs_id', '=', fsId).where('subnet_id', '=', subnetId).executeTakeFirst();
    return r !== undefined;
  }

  /** Addresses taken in a subnet (by every account's mount targets). */
  async takenAddresses(subnetId: string, e?: Executor): Promise<Set<string>> {
    const rows = await this.db(e).selectFrom('cfs_mount_targets').select('ovip').where('subnet_id', '=', subnetId).execute();
    return new Set(rows.map((r) => r.ovip));
  }

  async insertMountTarget(trx: Executor, row: MountTargetRow): Promise<void> {
    await this.db(trx).insertInto('cfs_mount_targets').values(row).execute();
  }

  async setMountTargetGroup(trx: Executor, accountId: string, mountId: string, group: string): Promise<void> {
    await this.db(trx).updateTable('cfs_mount_targets').set({ access_group: group }).where('account_id', '=', accountId).where('id', '=', mountId).execute();
  }

  async deleteMountTarget(trx: Executor, accountId: string, mountId: string): Promise<boolean> {
    const r = await this.db(trx).deleteFrom('cfs_mount_targets').where('account_id', '=', accountId).where('id', '=', mountId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ---- access groups and rules ----

  async getGroup(accountId: string, name: string, e?: Executor): Promise<AccessGroupRow | undefined> {
    return this.db(e).selectFrom('cfs_access_groups').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  }

  /** Inserts a group; false when the account has one by that name. */
  async insertGroup(trx: Executor, row: AccessGroupRow): Promise<boolean> {
    const r = await this.db(trx)
      .insertInto('cfs_access_groups')
      .values(row)
      .onConflict((oc) => oc.columns(['account_id', 'name']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** Groups from the marker on, in name order (byte order), up to `limit`. */
  async listGroups(f: { accountId: string; name?: string; marker?: string; limit: number }, e?: Executor): Promise<AccessGroupRow[]> {
    let q = this.db(e).selectFrom('cfs_access_groups').selectAll().where('account_id', '=', f.accountId);
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    if (f.marker) q = q.where('name', '>=', f.marker);
    return q.orderBy('name').limit(f.limit).execute();
  }

  async setGroupDescription(trx: Executor, accountId: string, name: string, description: string): Promise<void> {
    await this.db(trx).updateTable('cfs_access_groups').set({ description }).where('account_id', '=', accountId).where('name', '=', name).execute();
  }

  async groupInUse(accountId: string, name: string, e?: Executor): Promise<boolean> {
    const r = await this.db(e)
      .selectFrom('cfs_mount_targets')
      .select('id')
      .where('account_id', '=', accountId)
      .where('access_group', '=', name)
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }

  async deleteGroup(trx: Executor, accountId: string, name: string): Promise<void> {
    const db = this.db(trx);
    await db.deleteFrom('cfs_access_rules').where('account_id', '=', accountId).where('group_name', '=', name).execute();
    await db.deleteFrom('cfs_access_groups').where('account_id', '=', accountId).where('name', '=', name).execute();
  }

  /**
   * Takes `n` rule ids of a group (its row is updated first, so on PostgreSQL concurrent creators
   * of the same group's rules queue behind each other). Undefined when the group does not exist.
   */
  async takeRuleIds(trx: Executor, accountId: string, group: string, n: number): Promise<number | undefined> {
    const r = await this.db(trx)
      .updateTable('cfs_access_groups')
      .set((eb) => ({ next_rule_id: eb('next_rule_id', '+', n) }))
      .where('account_id', '=', accountId)
      .where('name', '=', group)
      .returning('next_rule_id')
      .executeTakeFirst();
    return r ? Number(r.next_rule_id) - n : undefined;
  }

  async insertRules(trx: Executor, rows: AccessRuleRow[]): Promise<void> {
    if (rows.length) await this.db(trx).insertInto('cfs_access_rules').values(rows).execute();
  }

  /** Rules of the given groups, by group name, each in id order. */
  async rulesOf(accountId: string, groups: string[], e?: Executor): Promise<Map<string, AccessRuleRow[]>> {
    const out = new Map<string, AccessRuleRow[]>(groups.map((g) => [g, []]));
    if (groups.length === 0) return out;
    const rows = await this.db(e)
      .selectFrom('cfs_access_rules')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('group_name', 'in', groups)
      .orderBy('group_name')
      .orderBy('id')
      .execute();
    for (const r of rows) out.get(r.group_name)?.push(r);
    return out;
  }

  /** A group's rules from the marker id on, in id order, up to `limit`. */
  async listRules(f: { accountId: string; group: string; id?: number; fromId?: number; limit: number }, e?: Executor): Promise<AccessRuleRow[]> {
    let q = this.db(e).selectFrom('cfs_access_rules').selectAll().where('account_id', '=', f.accountId).where('group_name', '=', f.group);
    if (f.id !== undefined) q = q.where('id', '=', f.id);
    if (f.fromId !== undefined) q = q.where('id', '>=', f.fromId);
    return q.orderBy('id').limit(f.limit).execute();
  }

  async updateRule(trx: Executor, accountId: string, group: string, id: number, set: RuleFields): Promise<boolean> {
    const r = await this.db(trx)
      .updateTable('cfs_access_rules')
      .set(set)
      .where('account_id', '=', accountId)
      .where('group_name', '=', group)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async deleteRule(trx: Executor, accountId: string, group: string, id: number): Promise<boolean> {
    const r = await this.db(trx)
      .deleteFrom('cfs_access_rules')
      .where('account_id', '=', accountId)
      .where('group_name', '=', group)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ---- what the NFS server exports ----

  /**
   * Every file system with a mount target (all accounts), in id order, with its volume and, per
   * mount target in creation order, the rules of its access group in priority order (1 first;
   * equal priorities by rule id).
   */
  async exportSources(e?: Executor): Promise<ExportSource[]> {
    const db = this.db(e);
    const targets = await db
      .selectFrom('cfs_mount_targets as m')
      .innerJoin('cfs_file_systems as f', 'f.id', 'm.fs_id')
      .leftJoin('volumes as v', 'v.id', 'f.volume_id')
      .select(['m.id as mount_id', 'm.fs_id', 'm.account_id', 'm.vpc_id', 'm.subnet_id', 'm.access_group', 'f.volume_id'])
      .select((eb) => [eb.fn.coalesce('v.quota_bytes', eb.lit(0)).as('quota_bytes'), eb.fn.coalesce('v.used_bytes', eb.lit(0)).as('used_bytes')])
      .orderBy('m.fs_id')
      .orderBy('m.created_at')
      .orderBy('m.id')
      .execute();
    const rules = await db
      .selectFrom('cfs_access_rules as r')
      .innerJoin('cfs_mount_targets as m', (j) => j.onRef('m.account_id', '=', 'r.account_id').onRef('m.access_group', '=', 'r.group_name'))
      .select(['m.id as mount_id', 'r.ip', 'r.mask', 'r.write_access', 'r.user_access', 'r.priority'])
      .orderBy('m.id')
      .orderBy('r.priority')
      .orderBy('r.id')
      .execute();
    const byTarget = new Map<string, RuleFields[]>();
    for (const r of rules) {
      let list = byTarget.get(r.mount_id);
      if (!list) byTarget.set(r.mount_id, (list = []));
      list.push({ ip: r.ip, mask: Number(r.mask), write_access: r.write_access, user_access: r.user_access, priority: Number(r.priority) });
    }
    const out: ExportSource[] = [];
    for (const t of targets) {
      let last = out[out.length - 1];
      if (!last || last.fsId !== t.fs_id) {
        last = { fsId: t.fs_id, volumeId: t.volume_id, quotaBytes: Number(t.quota_bytes), usedBytes: Number(t.used_bytes), mountTargets: [] };
        out.push(last);
      }
      last.mountTargets.push({ mountId: t.mount_id, vpcId: t.vpc_id, subnetId: t.subnet_id, rules: byTarget.get(t.mount_id) ?? [] });
    }
    return out;
  }
}
