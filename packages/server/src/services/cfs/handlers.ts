/** CFS handlers: one function per operation of `cfsOps`. Behaviour only. */
import { randomBytes, randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { cfsOps, DEFAULT_ACCESS_GROUP_NAME } from '@stockade/sdk';
import type { RequestContext } from '../../context.js';
import { auditResource } from '../../store/audit.js';
import type { Executor } from '../../store/schema.js';
import { handlersFor } from '../../platform/service.js';
import { errors } from './errors.js';
import { contains, formatAddress, parseAddress } from './net.js';
import type { FileSystemView, RuleFields } from './repository.js';
import type { CfsService } from './service.js';
import { Catalogue } from './settings.js';
import type { AccessRuleRow, MountTargetRow, Tag } from './tables.js';

type Ctx = RequestContext<CfsService>;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** `cfs-` + 10 alphanumerics, as in the vendor's examples (`cfs-jVDkWrBBoj`). */
const newFsId = () => 'cfs-' + Array.from({ length: 10 }, () => ALNUM[randomInt(ALNUM.length)]).join('');
/** The volume behind a file system: lower case, as volume ids must be. */
const newVolumeId = () => `cfs-${randomBytes(8).toString('hex')}`;
/** 48 lower-case hex digits, as in the vendor's example. */
const newMountId = () => randomBytes(24).toString('hex');

const invalid = (ctx: Ctx, field: string, detail: string) => errors.invalidParameter(ctx.lang, { field, detail });

/**
 * One page of a list: the rows were read with `limit: maxKeys + 1`, so one row more than the page
 * says whether another follows, and its key is the next marker. Paging fields per cfs.md §1.4:
 * `marker` only with a non-empty list, `nextMarker` only when truncated.
 */
function page<R, T>(rows: R[], maxKeys: number, marker: string | undefined, keyOf: (r: R) => string, map: (r: R) => T) {
  const list = rows.slice(0, maxKeys).map(map);
  const next = rows[maxKeys];
  return {
    list,
    paging: {
      ...(list.length ? { marker: marker ?? '' } : {}),
      isTruncated: next !== undefined,
      ...(next !== undefined ? { nextMarker: keyOf(next) } : {}),
      maxKeys,
    },
  };
}

async function fileSystemOr404(ctx: Ctx, fsId: string, trx?: Executor): Promise<FileSystemView> {
  const fs = await ctx.svc.repo.getFileSystem(ctx.identity.accountId, fsId, trx);
  if (!fs) throw errors.instanceNotFound(ctx.lang, { fsId });
  return fs;
}

async function groupOr404(ctx: Ctx, name: string, trx?: Executor): Promise<void> {
  if (!(await ctx.svc.repo.getGroup(ctx.identity.accountId, name, trx))) throw errors.accessGroupNotFound(ctx.lang, { name });
}

/** Tag keys are unique per file system. */
function checkTags(ctx: Ctx, tags: Tag[]): void {
  const seen = new Set<string>();
  for (const t of tags) {
    if (seen.has(t.tagKey)) throw invalid(ctx, 'tags', `tag key ${JSON.stringify(t.tagKey)} is given twice`);
    seen.add(t.tagKey);
  }
}

/** An access rule's address and prefix: IPv4 with a mask of 0–32, or IPv6 with 0–128. */
function checkRule(ctx: Ctx, r: { ip: string; mask: number }, prefix = ''): void {
  const family = isIP(r.ip);
  if (family === 0) throw invalid(ctx, `${prefix}ip`, `${JSON.stringify(r.ip)} is not an IPv4 or IPv6 address`);
  if (family === 4 && r.mask > 32) throw invalid(ctx, `${prefix}mask`, `an IPv4 mask is 0 to 32, got ${r.mask}`);
}

const ruleOut = (r: AccessRuleRow) => ({
  accessRuleId: r.id,
  ip: r.ip,
  mask: r.mask,
  writeAccess: r.write_access,
  userAccess: r.user_access,
  priority: r.priority,
});

function mountTargetOut(ctx: Ctx, m: MountTargetRow) {
  return { mountId: m.id, domain: ctx.svc.domain, subnetId: m.subnet_id, accessGroupName: m.access_group, ovip: m.ovip };
}

export const handlers = handlersFor<CfsService>()(cfsOps, {
  // ---- file systems ----

  async createFileSystem(ctx, input) {
    const { catalogue, repo } = ctx.svc;
    const accountId = ctx.identity.accountId;
    const protocol = input.protocol || input.protocal || 'nfs';
    if (protocol !== 'nfs') {
      throw errors.invalidFsProtocol(ctx.lang, { detail: 'This server serves file systems over NFS only (protocol nfs).' });
    }
    if (!catalogue.zones.has(input.zone)) throw errors.availabilityZoneNotFound(ctx.lang, { zone: input.zone });
    const vpcId = input.vpcId || catalogue.defaultVpcId;
    if (!catalogue.hasVpc(vpcId)) throw errors.invalidVpcId(ctx.lang, { vpcId, detail: 'no such VPC' });
    const tags = input.tags ?? [];
    checkTags(ctx, tags);
    const quota = input.capacityQuota ?? 0;
    const volumeId = newVolumeId();
    // What the transaction returns is the answer an idempotent retry replays: exactly the body.
    const answer = await ctx.tx(async (trx) => {
      // The count and the insert it allows, one account at a time.
      await repo.lock(trx, `fs-count.${accountId}`);
      const total = catalogue.settings.fileSystemsPerAccount;
      if ((await repo.countFileSystems(accountId, trx)) >= total) throw errors.fsNumQuotaExceeded(ctx.lang, { total });
      const fsId = newFsId();
      await ctx.app.volumes.create(trx, { id: volumeId, service: 'cfs', accountId, quotaBytes: quota });
      await repo.insertFileSystem(
        trx,
        {
          id: fsId,
          account_id: accountId,
          name: input.fsName,
          type: input.type || 'cap',
          protocol,
          status: 'available',
          vpc_id: vpcId,
          zone: input.zone,
          capacity_quota: quota,
          volume_id: volumeId,
          created_at: ctx.app.clock.now(),
        },
        tags,
      );
      await ctx.audit(trx, 'cfs.fs.create', auditResource('cfs', fsId), { fsName: input.fsName, capacityQuota: quota });
      return { fsId };
    });
    await ctx.svc.ensureRoot(volumeId);
    return answer;
  },

  async queryFileSystem(ctx, input) {
    const maxKeys = input.maxKeys ?? 1000;
    const ids = input.fsId ? [...new Set(input.fsId.split(',').map((s) => s.trim()).filter(Boolean))] : [];
    let tag: { key: string; value?: string } | undefined;
    if (input.filterTag) {
      const i = input.filterTag.indexOf(':');
      if (i <= 0) throw invalid(ctx, 'filterTag', 'expected {key}:{value}');
      const value = input.filterTag.slice(i + 1);
      // `@@@` matches any value of the key.
      tag = { key: input.filterTag.slice(0, i), ...(value === '@@@' ? {} : { value }) };
    }
    // userId names the owner account; another account's id sees nothing (accounts are isolated).
    if (input.userId && input.userId !== ctx.identity.accountId) return { fileSystemList: [], isTruncated: false, maxKeys };

    const rows = await ctx.svc.repo.listFileSystems({
      accountId: ctx.identity.accountId,
      ids,
      ...(input.marker ? { marker: input.marker } : {}),
      ...(tag ? { tag } : {}),
      limit: maxKeys + 1,
    });
    const shown = rows.slice(0, maxKeys).map((r) => r.id);
    const [tags, targets] = await Promise.all([ctx.svc.repo.tagsOf(shown), ctx.svc.repo.mountTargetsOf(shown)]);
    const { list, paging } = page(rows, maxKeys, input.marker, (r) => r.id, (r) => ({
      fsId: r.id,
      fsName: r.name,
      type: r.type,
      protocol: r.protocol,
      status: r.status,
      vpcId: r.vpc_id,
      zone: r.zone,
      fsUsage: String(r.used_bytes),
      capacityQuota: r.capacity_quota,
      tags: tags.get(r.id) ?? [],
      mountTargetList: (targets.get(r.id) ?? []).map((m) => mountTargetOut(ctx, m)),
    }));
    return { fileSystemList: list, ...paging };
  },

  async updateFileSystem(ctx, input) {
    const accountId = ctx.identity.accountId;
    await ctx.tx(async (trx) => {
      const fs = await fileSystemOr404(ctx, input.fsId, trx);
      if (input.capacityQuota !== undefined) {
        const r = await ctx.app.volumes.setQuota(trx, fs.volume_id, input.capacityQuota);
        if (r === 'below-usage') {
          const used = (await ctx.app.volumes.get(fs.volume_id, trx))?.used_bytes ?? 0;
          throw invalid(ctx, 'capacityQuota', `the file system holds ${used} bytes, more than ${input.capacityQuota}`);
        }
      }
      await ctx.svc.repo.updateFileSystem(trx, accountId, fs.id, {
        ...(input.fsName !== undefined ? { name: input.fsName } : {}),
        ...(input.capacityQuota !== undefined ? { capacity_quota: input.capacityQuota } : {}),
      });
      await ctx.audit(trx, 'cfs.fs.update', auditResource('cfs', fs.id), { fsName: input.fsName, capacityQuota: input.capacityQuota });
    });
    // A new quota may make a full file system writable again (or a fuller one read-only).
    await ctx.svc.exportsChanged();
    return undefined;
  },

  async dropFileSystem(ctx, input) {
    const { repo } = ctx.svc;
    const volumeId = await ctx.tx(async (trx) => {
      await repo.lock(trx, `fs.${input.fsId}`);
      const fs = await fileSystemOr404(ctx, input.fsId, trx);
      if (await repo.hasMountTargets(ctx.identity.accountId, fs.id, trx)) throw errors.dropMountedFs(ctx.lang, { fsId: fs.id });
      await repo.deleteFileSystem(trx, ctx.identity.accountId, fs.id);
      await ctx.app.volumes.drop(trx, fs.volume_id);
      await ctx.audit(trx, 'cfs.fs.drop', auditResource('cfs', fs.id), { bytes: fs.used_bytes });
      return fs.volume_id;
    });
    // The files go once the drop is committed (a crash in between: housekeeping collects them).
    await ctx.app.volumes.removeFiles(volumeId);
    return undefined;
  },

  async updateFileSystemTags(ctx, input) {
    const ids = [...new Set(input.fsId)];
    const tags = input.tags ?? [];
    checkTags(ctx, tags);
    const { repo } = ctx.svc;
    await ctx.tx(async (trx) => {
      for (const id of ids) await fileSystemOr404(ctx, id, trx);
      if (ids.length === 1) {
        // One file system: its tags become exactly these (none unbinds all).
        await repo.replaceTags(trx, ids[0]!, ctx.identity.accountId, tags);
      } else if (tags.length > 0) {
        // Several: these tags are added to each (a key it has takes the new value).
        const current = await repo.tagsOf(ids, trx);
        for (const id of ids) {
          const merged = new Map((current.get(id) ?? []).map((t) => [t.tagKey, t.tagValue]));
          for (const t of tags) merged.set(t.tagKey, t.tagValue);
          await repo.replaceTags(trx, id, ctx.identity.accountId, [...merged].map(([tagKey, tagValue]) => ({ tagKey, tagValue })));
        }
      }
      for (const id of ids) await ctx.audit(trx, 'cfs.fs.tags', auditResource('cfs', id), { tags, replace: ids.length === 1 });
    });
    return undefined;
  },

  async getFsQuota(ctx) {
    return { total: ctx.svc.catalogue.settings.fileSystemsPerAccount, created: await ctx.svc.repo.countFileSystems(ctx.identity.accountId) };
  },

  // ---- mount targets ----

  async createMountTarget(ctx, input) {
    const { repo, catalogue } = ctx.svc;
    const accountId = ctx.identity.accountId;
    const group = input.accessGroupName || DEFAULT_ACCESS_GROUP_NAME;
    const result = await ctx.tx(async (trx) => {
      await repo.lock(trx, `fs.${input.fsId}`);
      const fs = await fileSystemOr404(ctx, input.fsId, trx);
      if (!catalogue.hasVpc(input.vpcId)) throw errors.invalidVpcId(ctx.lang, { vpcId: input.vpcId, detail: 'no such VPC' });
      if (input.vpcId !== fs.vpc_id) {
        throw errors.invalidVpcId(ctx.lang, { vpcId: input.vpcId, detail: `the file system ${fs.id} is in VPC ${fs.vpc_id}` });
      }
      const subnet = catalogue.subnet(input.vpcId, input.subnetId);
      if (!subnet) throw errors.invalidSubnetId(ctx.lang, { subnetId: input.subnetId, detail: `no such subnet in VPC ${input.vpcId}` });
      let wanted: string | undefined;
      if (input.address) {
        const a = parseAddress(input.address);
        if (!a || !Catalogue.inRange(subnet, a)) throw invalid(ctx, 'address', `${input.address} is not an address of subnet ${subnet.subnetId} a mount target can take`);
        wanted = formatAddress(a);
      }
      await repo.lock(trx, `group.${accountId}.${group}`);
      await groupOr404(ctx, group, trx);
      // One mount target per file system and subnet; addresses unique in the subnet.
      await repo.lock(trx, `subnet.${subnet.subnetId}`);
      if (await repo.mountTargetInSubnet(fs.id, subnet.subnetId, trx)) {
        throw errors.alreadyMounted(ctx.lang, { fsId: fs.id, subnetId: subnet.subnetId });
      }
      const taken = await repo.takenAddresses(subnet.subnetId, trx);
      if (wanted && taken.has(wanted)) throw invalid(ctx, 'address', `${wanted} is taken in subnet ${subnet.subnetId}`);
      const ovip = wanted ?? Catalogue.firstFree(subnet, taken);
      if (!ovip) throw errors.invalidSubnetId(ctx.lang, { subnetId: subnet.subnetId, detail: 'the subnet has no free address' });
      const mountId = newMountId();
      await repo.insertMountTarget(trx, {
        id: mountId,
        fs_id: fs.id,
        account_id: accountId,
        vpc_id: input.vpcId,
        subnet_id: subnet.subnetId,
        ovip,
        access_group: group,
        created_at: ctx.app.clock.now(),
      });
      await ctx.audit(trx, 'cfs.mount-target.create', auditResource('cfs', fs.id, 'mount', mountId), { subnetId: subnet.subnetId, accessGroupName: group });
      return { mountId, domain: ctx.svc.domain };
    });
    await ctx.svc.exportsChanged();
    return result;
  },

  async queryMountTarget(ctx, input) {
    const maxKeys = input.maxKeys ?? 1000;
    const fs = await fileSystemOr404(ctx, input.fsId);
    const rows = await ctx.svc.repo.listMountTargets({
      accountId: ctx.identity.accountId,
      fsId: fs.id,
      ...(input.mountId ? { mountId: input.mountId } : {}),
      ...(input.marker ? { marker: input.marker } : {}),
      limit: maxKeys + 1,
    });
    const { list, paging } = page(rows, maxKeys, input.marker, (m) => m.id, (m) => mountTargetOut(ctx, m));
    return { mountTargetList: list, ...paging };
  },

  async modifyMountTargetAccessGroup(ctx, input) {
    const { repo } = ctx.svc;
    const accountId = ctx.identity.accountId;
    await ctx.tx(async (trx) => {
      const fs = await fileSystemOr404(ctx, input.fsId, trx);
      const m = await repo.getMountTarget(accountId, fs.id, input.mountId, trx);
      if (!m) throw errors.mountTargetNotFound(ctx.lang, { fsId: fs.id, mountId: input.mountId });
      await repo.lock(trx, `group.${accountId}.${input.accessGroupName}`);
      await groupOr404(ctx, input.accessGroupName, trx);
      await repo.setMountTargetGroup(trx, accountId, m.id, input.accessGroupName);
      await ctx.audit(trx, 'cfs.mount-target.update', auditResource('cfs', fs.id, 'mount', m.id), { accessGroupName: input.accessGroupName });
    });
    await ctx.svc.exportsChanged();
    return undefined;
  },

  async dropMountTarget(ctx, input) {
    await ctx.tx(async (trx) => {
      await ctx.svc.repo.lock(trx, `fs.${input.fsId}`);
      const fs = await fileSystemOr404(ctx, input.fsId, trx);
      const m = await ctx.svc.repo.getMountTarget(ctx.identity.accountId, fs.id, input.mountId, trx);
      if (!m) throw errors.mountTargetNotFound(ctx.lang, { fsId: fs.id, mountId: input.mountId });
      await ctx.svc.repo.deleteMountTarget(trx, ctx.identity.accountId, m.id);
      await ctx.audit(trx, 'cfs.mount-target.drop', auditResource('cfs', fs.id, 'mount', m.id));
    });
    // The export goes with its last mount target.
    await ctx.svc.exportsChanged();
    return undefined;
  },

  async queryMountedClients(ctx, input) {
    const maxKeys = input.maxKeys ?? 1000;
    const { repo, catalogue } = ctx.svc;
    const fs = await fileSystemOr404(ctx, input.fsId);
    // The NFS server knows client addresses, not which export each client uses: a client is
    // listed under the first mount target whose rules admit its address, which is the entry the
    // NFS server applies to it (see README, "QueryMountedClients").
    const targets = [...((await repo.mountTargetsOf([fs.id])).get(fs.id) ?? [])].sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
    const rules = await repo.rulesOf(ctx.identity.accountId, [...new Set(targets.map((t) => t.access_group))]);
    const entries: Array<{ zone: string; vpcId: string; mountId: string; clientIp: string }> = [];
    for (const ip of await ctx.svc.nfsClients()) {
      const a = parseAddress(ip);
      if (!a) continue;
      const admits = (r: RuleFields) => {
        const net = parseAddress(r.ip);
        return net !== null && contains(net, r.mask, a);
      };
      const t = targets.find((m) => (rules.get(m.access_group) ?? []).some(admits));
      if (t) entries.push({ zone: catalogue.zoneOfSubnet(t.subnet_id) ?? fs.zone, vpcId: t.vpc_id, mountId: t.id, clientIp: ip });
    }
    const key = (e: (typeof entries)[number]) => `${e.mountId}/${e.clientIp}`;
    entries.sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
    const from = input.marker ? entries.filter((e) => key(e) >= input.marker!) : entries;
    const { list, paging } = page(from.slice(0, maxKeys + 1), maxKeys, input.marker, key, (e) => e);
    return { clientInfoList: list, ...paging };
  },

  // ---- access groups ----

  async createAccessGroup(ctx, input) {
    return ctx.tx(async (trx) => {
      const created = await ctx.svc.repo.insertGroup(trx, {
        account_id: ctx.identity.accountId,
        name: input.accessGroupName,
        description: input.description ?? '',
        next_rule_id: 1,
        created_at: ctx.app.clock.now(),
      });
      if (!created) throw errors.accessGroupAlreadyExists(ctx.lang, { name: input.accessGroupName });
      await ctx.audit(trx, 'cfs.access-group.create', auditResource('accessGroup', input.accessGroupName));
      return undefined;
    });
  },

  async queryAccessGroups(ctx, input) {
    const maxKeys = input.maxKeys ?? 1000;
    const accountId = ctx.identity.accountId;
    const name = input.accessGroupName || input.agName || undefined;
    const rows = await ctx.svc.repo.listGroups({
      accountId,
      ...(name !== undefined ? { name } : {}),
      ...(input.marker ? { marker: input.marker } : {}),
      limit: maxKeys + 1,
    });
    const rules = await ctx.svc.repo.rulesOf(accountId, rows.slice(0, maxKeys).map((g) => g.name));
    const { list, paging } = page(rows, maxKeys, input.marker, (g) => g.name, (g) => ({
      accessGroupName: g.name,
      description: g.description,
      accessRules: (rules.get(g.name) ?? []).map(ruleOut),
    }));
    return { accessGroups: list, ...paging };
  },

  async updateAccessGroup(ctx, input) {
    await ctx.tx(async (trx) => {
      await groupOr404(ctx, input.agName, trx);
      if (input.description !== undefined) await ctx.svc.repo.setGroupDescription(trx, ctx.identity.accountId, input.agName, input.description);
      await ctx.audit(trx, 'cfs.access-group.update', auditResource('accessGroup', input.agName));
    });
    return undefined;
  },

  async deleteAccessGroup(ctx, input) {
    const name = input.agName;
    const accountId = ctx.identity.accountId;
    await ctx.tx(async (trx) => {
      await ctx.svc.repo.lock(trx, `group.${accountId}.${name}`);
      await groupOr404(ctx, name, trx);
      if (name === DEFAULT_ACCESS_GROUP_NAME) throw errors.accessGroupInUse(ctx.lang, { name, detail: 'it is the default access group' });
      if (await ctx.svc.repo.groupInUse(accountId, name, trx)) {
        throw errors.accessGroupInUse(ctx.lang, { name, detail: 'a mount target is bound to it' });
      }
      await ctx.svc.repo.deleteGroup(trx, accountId, name);
      await ctx.audit(trx, 'cfs.access-group.delete', auditResource('accessGroup', name));
    });
    return undefined;
  },

  // ---- access rules ----

  async createAccessRule(ctx, input) {
    checkRule(ctx, input);
    const r = await createRules(ctx, input.agName, [input], (ids) => ({ accessRuleId: ids[0]! }));
    await ctx.svc.exportsChanged();
    return r;
  },

  async batchCreateAccessRules(ctx, input) {
    input.access_rules.forEach((r, i) => checkRule(ctx, r, `access_rules[${i}].`));
    const r = await createRules(
      ctx,
      input.ag_name,
      input.access_rules.map((r) => ({ ip: r.ip, mask: r.mask, writeAccess: r.write_access, userAccess: r.user_access, priority: r.priority })),
      (ids) => ({ responses: ids.map((accessRuleId) => ({ accessRuleId })) }),
    );
    await ctx.svc.exportsChanged();
    return r;
  },

  async queryAccessRules(ctx, input) {
    const maxKeys = input.maxKeys ?? 1000;
    await groupOr404(ctx, input.agName);
    let fromId: number | undefined;
    if (input.marker) {
      if (!/^\d{1,10}$/.test(input.marker)) throw invalid(ctx, 'marker', 'not a marker this server gave');
      fromId = Number(input.marker);
    }
    const id = input.accessRuleId ?? input.arId;
    const rows = await ctx.svc.repo.listRules({
      accountId: ctx.identity.accountId,
      group: input.agName,
      ...(id !== undefined ? { id } : {}),
      ...(fromId !== undefined ? { fromId } : {}),
      limit: maxKeys + 1,
    });
    const { list, paging } = page(rows, maxKeys, input.marker, (r) => String(r.id), ruleOut);
    return { accessRules: list, ...paging };
  },

  async updateAccessRule(ctx, input) {
    checkRule(ctx, input);
    await ctx.tx(async (trx) => {
      await groupOr404(ctx, input.agName, trx);
      const fields = { ip: input.ip, mask: input.mask, write_access: input.writeAccess, user_access: input.userAccess, priority: input.priority };
      if (!(await ctx.svc.repo.updateRule(trx, ctx.identity.accountId, input.agName, input.arId, fields))) {
        throw errors.accessRuleNotFound(ctx.lang, { id: input.arId, name: input.agName });
      }
      await ctx.audit(trx, 'cfs.access-rule.update', auditResource('accessGroup', input.agName, 'rule', input.arId), fields);
    });
    await ctx.svc.exportsChanged();
    return undefined;
  },

  async deleteAccessRule(ctx, input) {
    await ctx.tx(async (trx) => {
      await groupOr404(ctx, input.agName, trx);
      if (!(await ctx.svc.repo.deleteRule(trx, ctx.identity.accountId, input.agName, input.arId))) {
        throw errors.accessRuleNotFound(ctx.lang, { id: input.arId, name: input.agName });
      }
      await ctx.audit(trx, 'cfs.access-rule.delete', auditResource('accessGroup', input.agName, 'rule', input.arId));
    });
    await ctx.svc.exportsChanged();
    return undefined;
  },
});

interface RuleInput {
  ip: string;
  mask: number;
  writeAccess: 'read_only' | 'read_write';
  userAccess: 'no_squash' | 'root_squash' | 'all_squash';
  priority: number;
}

/**
 * Adds rules to a group in one transaction; answers `answer(ids)`, the value the transaction
 * returns (an idempotent retry replays it).
 */
async function createRules<T>(ctx: Ctx, group: string, rules: RuleInput[], answer: (ids: number[]) => T): Promise<T> {
  const accountId = ctx.identity.accountId;
  return ctx.tx(async (trx) => {
    const first = await ctx.svc.repo.takeRuleIds(trx, accountId, group, rules.length);
    if (first === undefined) throw errors.accessGroupNotFound(ctx.lang, { name: group });
    const now = ctx.app.clock.now();
    const rows = rules.map((r, i) => ({
      account_id: accountId,
      group_name: group,
      id: first + i,
      ip: r.ip,
      mask: r.mask,
      write_access: r.writeAccess,
      user_access: r.userAccess,
      priority: r.priority,
      created_at: now,
    }));
    await ctx.svc.repo.insertRules(trx, rows);
    for (const r of rows) await ctx.audit(trx, 'cfs.access-rule.create', auditResource('accessGroup', group, 'rule', r.id), { ip: r.ip, mask: r.mask });
    return answer(rows.map((r) => r.id));
  });
}
