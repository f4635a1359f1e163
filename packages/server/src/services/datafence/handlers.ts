/** Datafence handlers: one function per operation of `datafenceOps`. Behaviour only. */
import { datafenceOps, DATAFENCE_MESSAGES } from '@stockade/sdk';
import type { RequestContext } from '../../context.js';
import { handlersFor, Serialized } from '../../platform/service.js';
import { kstIso } from '../time.js';
import { PRODUCT_CATALOG, productOf, specOf } from './catalog.js';
import { errors } from './errors.js';
import { Planner, type HadoopDetail, type Plan } from './plan.js';
import { GIB, isNas, linuxMountPath, type InfraType } from './provisioner.js';
import type { DatafenceService } from './service.js';
import type { BoxRow, InfraHistoryRow, InfraRow } from './tables.js';
import { statusName, STORAGE_NAMES } from './texts.js';

/** The catalogue never changes while the server runs: serialise it once. */
const CATALOG = new Serialized([...PRODUCT_CATALOG]);

type Ctx = RequestContext<DatafenceService>;

/** 0-based page and its size; the gateway applied the declared defaults (0, 10). */
const paging = (input: { page?: number; size?: number }) => ({ page: input.page ?? 0, size: input.size ?? 10 });
const message = (op: keyof typeof DATAFENCE_MESSAGES) => ({ message: DATAFENCE_MESSAGES[op] });
const boxResource = (b: { fence_id: number; id: number }) => `fence/${b.fence_id}/box/${b.id}`;

function boxRow(ctx: Ctx, b: BoxRow) {
  return {
    boxId: b.id,
    boxName: b.name,
    description: b.description,
    statusCode: b.status,
    statusName: statusName(ctx.lang, b.status),
    createDate: kstIso(b.created_at),
  };
}

function historyRow(ctx: Ctx, h: InfraHistoryRow) {
  return {
    infraType: h.infra_type,
    instanceNo: h.instance_no,
    instanceName: h.instance_name,
    statusCode: h.status,
    statusName: statusName(ctx.lang, h.status),
    createDate: kstIso(h.at),
    endDate: h.status === 'TERMINATE' ? kstIso(h.at) : '',
  };
}

/** What an infra change asks for, as its audit event records it. */
const planDetail = (plan: Plan) => ({
  create: plan.create.map((c) => c.infraType),
  update: plan.update.map((u) => u.item.instance_no),
  remove: plan.remove.map((r) => r.instance_no),
});

const imageList = (rows: Awaited<ReturnType<DatafenceService['repo']['customImages']>>) => ({
  content: rows.map((r) => ({ imageNo: Number(r.image_no), imageName: r.image_name, productCode: r.product_code, baseServerName: r.base_server_name })),
});

const specName = (productCode: string, specCode: string) => specOf(productCode, specCode)?.specName ?? specCode;
const softwareName = (productCode: string, code: string) =>
  productOf(productCode).softwareCodeList.find((s) => s.softwareCode === code)?.softwareName ?? code;
const hadoop = (item: InfraRow) => JSON.parse(item.detail ?? '{}') as HadoopDetail;

/** First and second login accounts of a server, as get-box-infra-list shows them. */
function logins(item: InfraRow, passwords: Record<string, string> | null): [string, string] {
  switch (item.infra_type) {
    case 'CON':
      return ['ncp1', passwords?.ncp2 !== undefined ? 'ncp2' : ''];
    case 'SVR_WIN':
      return ['Administrator', ''];
    case 'HD':
      return ['sshuser', ''];
    default:
      return ['root', ''];
  }
}

/** The box's NAS as the info operations list them, with the server's block storage. */
async function storageOf(ctx: Ctx, boxId: number, windows: boolean, blockPath: string | null) {
  const nas = await ctx.svc.boxNas(boxId);
  const list = nas.map((n) => ({ name: STORAGE_NAMES.nas[ctx.lang], storagePath: windows ? n.windowsMountPath : n.linuxMountPath }));
  if (blockPath !== null) list.push({ name: STORAGE_NAMES.block[ctx.lang], storagePath: blockPath });
  return list;
}

/** The live server of the box that `instanceNo` names among `types` (2600040 otherwise). */
async function server(ctx: Ctx, input: { fenceId: number; boxId: number }, instanceNo: number, types: readonly InfraType[]) {
  const { box } = await ctx.svc.requireBox(ctx, input.fenceId, input.boxId);
  return { box, item: await ctx.svc.requireItem(ctx, box.fence_id, box.id, instanceNo, types) };
}

export const handlers = handlersFor<DatafenceService>()(datafenceOps, {
  async getDatafence(ctx) {
    const scope = await ctx.svc.scope(ctx);
    const counts = await ctx.svc.repo.liveBoxCounts(ctx.identity.accountId, scope);
    const fences = (await ctx.svc.repo.listFences(ctx.identity.accountId)).filter((f) => scope.all || counts.has(f.id));
    return fences.map((f) => ({
      fenceId: f.id,
      fenceName: f.name,
      boxCount: counts.get(f.id) ?? 0,
      createDate: kstIso(f.created_at),
      statusCode: f.status,
      statusName: statusName(ctx.lang, f.status),
      description: f.description,
      exportScreenBucketName: f.export_bucket,
      sslVpnName: f.ssl_vpn_name,
    }));
  },

  async getDatafenceInfraList(ctx, input) {
    const fence = await ctx.svc.requireFenceAdmin(ctx, input.fenceId);
    const { total, rows } = await ctx.svc.repo.pageItems(fence.id, null, paging(input));
    return {
      totalCount: total,
      content: rows.map((i) => {
        const server = i.infra_type === 'FENCE_UBUNTU';
        return {
          infraType: i.infra_type,
          instanceNo: i.instance_no,
          instanceName: i.instance_name,
          privateIp: server ? i.private_ip : '',
          publicIp: server ? i.public_ip : '',
          osName: server ? softwareName('FENCE_UBUNTU', i.software_code) : '',
          specName: server ? specName('FENCE_UBUNTU', i.spec_code) : String(i.nas_size ?? 0),
          userName: server ? 'root' : linuxMountPath(i.instance_name),
          statusCode: i.status,
          statusName: statusName(ctx.lang, i.status),
          createDate: kstIso(i.created_at),
        };
      }),
    };
  },

  async getDatafenceInfraHistory(ctx, input) {
    const fence = await ctx.svc.requireFenceAdmin(ctx, input.fenceId);
    const { total, rows } = await ctx.svc.repo.pageHistory(fence.id, null, paging(input));
    return { totalCount: total, content: rows.map((h) => historyRow(ctx, h)) };
  },

  async getFenceCustomImage(ctx, input) {
    const fence = await ctx.svc.requireFenceAdmin(ctx, input.fenceId);
    return imageList(await ctx.svc.repo.customImages(fence.id, input.productCode));
  },

  async changeDatafenceInfra(ctx, input) {
    const { svc } = ctx;
    await svc.requireFence(ctx, input.fenceId);
    await ctx.tx(async (trx) => {
      const fence = (await svc.repo.getFence(trx, input.fenceId))!;
      if (fence.status !== 'USE') throw errors.fenceNotInUse(ctx.lang, { fenceId: fence.id, status: fence.status });
      const live = await svc.repo.items(trx, fence.id, null, { live: true });
      const plan = await new Planner(ctx.lang, live, async (imageNo) =>
        (await svc.repo.findCustomImage(fence.id, imageNo, 'FENCE_UBUNTU', trx)) !== undefined,
      ).fence(input.updateFence);
      await svc.beginFenceTransition(ctx, trx, fence, input.description);
      await svc.applyPlan(trx, fence, null, plan, 'INITIALIZE');
      await ctx.audit(trx, 'fence.change-infra', `fence/${fence.id}`, { status: 'ING', ...planDetail(plan) });
    });
    return message('change-datafence-infra');
  },

  async changeFenceNasVolume(ctx, input) {
    const { svc } = ctx;
    await svc.requireFence(ctx, input.fenceId);
    const instanceNo = Number(input.instanceNo);
    await ctx.tx(async (trx) => {
      const fence = (await svc.repo.getFence(trx, input.fenceId))!;
      if (fence.status !== 'USE') throw errors.fenceNotInUse(ctx.lang, { fenceId: fence.id, status: fence.status });
      const nas = await svc.requireItem(ctx, fence.id, null, instanceNo, ['FENCE_NAS'], trx);
      await svc.provisioner.resizeNas(trx, nas, input.volumeSize);
      await svc.beginFenceTransition(ctx, trx, fence);
      await svc.setItemStatus(trx, nas, 'ING', { nas_size: input.volumeSize });
      await ctx.audit(trx, 'fence.change-nas-volume', `fence/${fence.id}`, { status: 'ING', instanceNo, from: nas.nas_size, to: input.volumeSize });
    });
    return message('change-fence-nas-volume');
  },

  async getBucketList(ctx) {
    // The account's Object Storage buckets, all usable for import and export.
    const buckets = await ctx.app.api('s3').listBuckets(ctx.identity.accountId);
    return buckets.map((b) => ({ name: b.name, enableable: true }));
  },

  async getProductSpec() {
    return CATALOG;
  },

  async createBox(ctx, input) {
    const { svc } = ctx;
    await svc.requireFence(ctx, input.fenceId);
    const plan = await new Planner(ctx.lang, []).box(input.createBoxInfo);
    await ctx.tx(async (trx) => {
      const seq = await svc.repo.nextBoxNumber(trx, input.fenceId);
      const fence = (await svc.repo.getFence(trx, input.fenceId))!;
      if (seq === undefined) throw errors.fenceNotInUse(ctx.lang, { fenceId: fence.id, status: fence.status });
      const limit = ctx.app.config.boxLimit;
      if ((await svc.repo.countLiveBoxes(trx, fence.id)) >= limit) throw errors.boxLimitExceeded(ctx.lang, { limit });
      const row: Omit<BoxRow, 'id'> = {
        account_id: fence.account_id,
        fence_id: fence.id,
        name: `box${seq}`,
        description: input.description ?? '',
        status: 'INITIALIZE',
        version: 1,
        web_block: 1,
        created_at: ctx.app.clock.now(),
        ended_at: null,
      };
      const box = { id: await svc.repo.insertBox(trx, row), ...row };
      await svc.recordHistory(trx, { accountId: box.account_id, fenceId: fence.id, boxId: box.id }, { id: null, infraType: 'BOX', instanceNo: box.id, instanceName: box.name }, 'INITIALIZE');
      await svc.applyPlan(trx, fence, box, plan, 'INITIALIZE');
      await svc.enqueueBoxTransition(trx, { boxId: box.id, version: box.version });
      await ctx.audit(trx, 'box.create', boxResource(box), { status: 'INITIALIZE', boxName: box.name, items: plan.create.map((c) => c.infraType) });
    });
    return message('create-box');
  },

  async getBoxCustomImage(ctx, input) {
    const fence = await ctx.svc.requireFence(ctx, input.fenceId);
    return imageList(await ctx.svc.repo.customImages(fence.id, input.productCode));
  },

  async getBoxHistory(ctx, input) {
    const fence = await ctx.svc.requireFence(ctx, input.fenceId);
    const { total, rows } = await ctx.svc.repo.pageBoxes(fence.id, await ctx.svc.scope(ctx), { ...paging(input), live: false });
    return { totalCount: total, content: rows.map((b) => ({ ...boxRow(ctx, b), endDate: b.ended_at === null ? '' : kstIso(b.ended_at) })) };
  },

  async getBoxInfraHistory(ctx, input) {
    const { box } = await ctx.svc.requireBox(ctx, input.fenceId, input.boxId);
    const { total, rows } = await ctx.svc.repo.pageHistory(box.fence_id, box.id, paging(input));
    return { totalCount: total, content: rows.map((h) => historyRow(ctx, h)) };
  },

  async getBoxInfraList(ctx, input) {
    const { svc } = ctx;
    const { box } = await svc.requireBox(ctx, input.fenceId, input.boxId);
    const { total, rows } = await svc.repo.pageItems(box.fence_id, box.id, paging(input));
    return {
      totalCount: total,
      content: rows.map((i) => {
        const nas = isNas(i.infra_type);
        const [user1, user2] = nas ? [linuxMountPath(i.instance_name), ''] : logins(i, i.passwords_enc ? svc.provisioner.openPasswords(i.passwords_enc) : null);
        return {
          infraType: i.infra_type,
          instanceNo: i.instance_no,
          instanceName: i.instance_name,
          blockStorageInstanceNo: i.block_storage_no ?? 0,
          blockStorageSize: i.block_storage_size ?? 0,
          privateIp: i.private_ip,
          specName: nas ? String(i.nas_size ?? 0) : i.infra_type === 'HD' ? specName('HD_MASTER', i.spec_code) : specName(i.infra_type, i.spec_code),
          userName1: user1,
          userName2: user2,
          statusCode: i.status,
          statusName: statusName(ctx.lang, i.status),
          createDate: kstIso(i.created_at),
        };
      }),
    };
  },

  async getBoxList(ctx, input) {
    const fence = await ctx.svc.requireFence(ctx, input.fenceId);
    const { total, rows } = await ctx.svc.repo.pageBoxes(fence.id, await ctx.svc.scope(ctx), { ...paging(input), live: true });
    return { totalCount: total, content: rows.map((b) => boxRow(ctx, b)) };
  },

  async getBoxSummaryInfo(ctx, input) {
    const { svc } = ctx;
    const { box } = await svc.requireBox(ctx, input.fenceId, input.boxId);
    const items = await svc.repo.items(undefined, box.fence_id, box.id, { live: true });
    const nas = items.filter((i) => i.infra_type === 'BOX_NAS');
    let used = 0;
    for (const n of nas) used += await svc.provisioner.nasUsage(n);
    return {
      ...boxRow(ctx, box),
      // [inferred] the servers and clusters the box NAS is mounted on.
      mountCount: items.filter((i) => !isNas(i.infra_type)).length,
      nasCount: nas.length,
      nasTotalSize: nas.reduce((sum, n) => sum + (n.nas_size ?? 0), 0),
      nasInstanceNoList: nas.map((n) => n.instance_no),
      nasTotalUseSize: Math.ceil(used / GIB),
      exportApplyCount: await svc.exportApplyCount(box.id),
      webBlockStatus: box.web_block === 1,
    };
  },

  async getConnectInfo(ctx, input) {
    const { box } = await server(ctx, input, input.instanceNo, ['CON']);
    return { storageList: await storageOf(ctx, box.id, true, 'D:\\') };
  },

  async getLinuxInfo(ctx, input) {
    const { box } = await server(ctx, input, input.instanceNo, ['SVR_LNX_UBUNTU']);
    return { storageList: await storageOf(ctx, box.id, false, '/mnt/blockstorage') };
  },

  async getWindowsInfo(ctx, input) {
    const { box } = await server(ctx, input, input.instanceNo, ['SVR_WIN']);
    return { storageList: await storageOf(ctx, box.id, true, 'D:\\') };
  },

  async getTensorflowInfo(ctx, input) {
    const { box, item } = await server(ctx, input, input.instanceNo, ['TF_CPU', 'TF_GPU']);
    return {
      connectionList: [
        { applicationName: 'Jupyter Notebook', connectionUrl: `https://${item.private_ip}:8888` },
        { applicationName: 'TensorBoard', connectionUrl: `https://${item.private_ip}:6006` },
      ],
      storageList: await storageOf(ctx, box.id, false, '/mnt/blockstorage'),
    };
  },

  async getHadoopClusterInfo(ctx, input) {
    const { box, item } = await server(ctx, input, input.hadoopClusterNo, ['HD']);
    const d = hadoop(item);
    return {
      connectionList: [
        { applicationName: 'Ambari', connectionUrl: `https://${item.private_ip}:8443` },
        { applicationName: 'Hue', connectionUrl: `https://${item.private_ip}:8081` },
        { applicationName: 'Zeppelin', connectionUrl: `https://${item.private_ip}:9996` },
      ],
      nodeSpecList: [
        { name: 'Hadoop Edge', spec: specName('HD_EDGE', d.edgeNodeSpecCode), nodeCount: 1 },
        { name: 'Hadoop Master', spec: specName('HD_MASTER', d.masterNodeSpecCode), nodeCount: productOf('HD_MASTER').defaultQuantity },
        { name: 'Hadoop Worker', spec: specName('HD_WORKER', d.workerNodeSpecCode), nodeCount: d.workerNodeCount },
      ],
      storageList: await storageOf(ctx, box.id, false, null),
    };
  },

  async changeBoxBlockExternalNetwork(ctx, input) {
    const { svc } = ctx;
    await svc.requireBox(ctx, input.fenceId, input.boxId);
    await ctx.tx(async (trx) => {
      const box = (await svc.repo.getBox(trx, input.boxId))!;
      await svc.requireBoxInUse(ctx, trx, box);
      if ((box.web_block === 1) === input.isBlock) {
        throw errors.externalNetworkUnchanged(ctx.lang, { value: input.isBlock ? 'blocked' : 'allowed' });
      }
      await svc.beginBoxTransition(ctx, trx, box, 'ING', { webBlock: input.isBlock });
      await ctx.audit(trx, 'box.change-network', boxResource(box), { status: 'ING', isBlock: input.isBlock });
    });
    return message('change-box-block-external-network');
  },

  async changeBoxInfra(ctx, input) {
    const { svc } = ctx;
    const req = input.updateBoxInfo;
    const { fence } = await svc.requireBox(ctx, input.fenceId, req.boxId);
    await ctx.tx(async (trx) => {
      const box = (await svc.repo.getBox(trx, req.boxId))!;
      const live = await svc.requireBoxInUse(ctx, trx, box);
      const plan = await new Planner(ctx.lang, live).box(req);
      await svc.beginBoxTransition(ctx, trx, box, 'ING', req.description !== undefined ? { description: req.description } : {});
      await svc.applyPlan(trx, fence, box, plan, 'INITIALIZE');
      await ctx.audit(trx, 'box.change-infra', boxResource(box), { status: 'ING', ...planDetail(plan) });
    });
    return message('change-box-infra');
  },

  async changeBoxNasVolume(ctx, input) {
    const { svc } = ctx;
    const { box: found } = await svc.requireBox(ctx, input.fenceId, input.boxId);
    const instanceNo = Number(input.instanceNo);
    const nas = await svc.requireItem(ctx, found.fence_id, found.id, instanceNo, ['BOX_NAS']);
    // Files written from inside the box count: the NAS is measured before the new size is set.
    const used = await svc.provisioner.nasUsage(nas);
    await ctx.tx(async (trx) => {
      const box = (await svc.repo.getBox(trx, found.id))!;
      await svc.requireBoxInUse(ctx, trx, box);
      if ((await svc.provisioner.resizeNas(trx, nas, input.volumeSize)) === 'below-usage') {
        throw errors.nasSizeBelowUsage(ctx.lang, { instanceNo, used: Math.ceil(used / GIB), size: input.volumeSize });
      }
      await svc.beginBoxTransition(ctx, trx, box, 'ING');
      await svc.setItemStatus(trx, nas, 'ING', { nas_size: input.volumeSize });
      await ctx.audit(trx, 'box.change-nas-volume', boxResource(box), { status: 'ING', instanceNo, from: nas.nas_size, to: input.volumeSize });
    });
    return message('change-box-nas-volume');
  },

  async returnBox(ctx, input) {
    const { svc } = ctx;
    const { fence } = await svc.requireBox(ctx, input.fenceId, input.boxId);
    await ctx.tx(async (trx) => {
      const box = (await svc.repo.getBox(trx, input.boxId))!;
      const live = await svc.requireBoxInUse(ctx, trx, box);
      await svc.beginBoxTransition(ctx, trx, box, 'RETURN');
      await svc.applyPlan(trx, fence, box, { create: [], update: [], remove: live }, 'INITIALIZE');
      await ctx.audit(trx, 'box.return', boxResource(box), { status: 'RETURN' });
    });
    return message('return-box');
  },
});
