/** Datafence handlers: one function per operation of `datafenceOps`. Behaviour only. */
import { datafenceOps, DATAFENCE_MESSAGES, type EXPORT_STATUS_CODES, type IMPORT_STATUS_CODES } from '@stockade/sdk';
import type { RequestContext } from '../../context.js';
import { handlersFor, Serialized } from '../../platform/service.js';
import { kstIso } from '../time.js';
import { PRODUCT_CATALOG, productOf, specOf } from './catalog.js';
import { errors } from './errors.js';
import { Planner, type HadoopDetail, type Plan } from './plan.js';
import { GIB, isNas, linuxMountPath, type InfraType } from './provisioner.js';
import type { DatafenceService } from './service.js';
import type { BoxRow, ExportRow, FenceRow, ImportRow, InfraHistoryRow, InfraRow, VoteRow } from './tables.js';
import { exportStatusName, importStatusName, statusName, STORAGE_NAMES } from './texts.js';
import { extensionOf, MAX_TRANSFER_BYTES } from './airlock.js';
import type { RequestFilter } from './repository.js';
import type { BoxNas } from './service.js';
import { EXPORT_RELEASE, EXPORT_UPLOAD, IMPORT_FILE } from './tasks.js';
import { checkSyntax, InvalidPathError } from '../../store/volumes.js';

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

  // ── import (§4.4) ─────────────────────────────────────────────────────────────────────────

  async getTargetNasList(ctx, input) {
    await ctx.svc.requireBox(ctx, input.fenceId, input.boxId);
    return nasList(await ctx.svc.boxNas(input.boxId));
  },

  async createFileImport(ctx, input) {
    const { svc } = ctx;
    const { box } = await svc.requireBox(ctx, input.fenceId, input.boxId);
    const nas = await requireNas(ctx, box.id, input.targetNasInstanceNo);
    const s3 = ctx.app.api('s3');
    if (new Set(input.sourceFilePathList).size !== input.sourceFilePathList.length) {
      throw errors.invalidParameter(ctx.lang, {}, 'a file is named twice in sourceFilePathList');
    }
    const files: Array<{ key: string; name: string }> = [];
    for (const key of input.sourceFilePathList) {
      // The file lands as `{fileId}_{last segment of the key}` ([inferred]: an object key may hold `/`).
      const name = key.slice(key.lastIndexOf('/') + 1);
      try {
        if (name === '' || Buffer.byteLength(name) > MAX_NAME_BYTES) throw new Error('bad name');
        checkSyntax(`1_${name}`);
      } catch {
        throw errors.invalidParameter(ctx.lang, {}, `the object name ${JSON.stringify(key)} cannot be a file name on the NAS`);
      }
      const st = await s3.statObject(ctx.identity.accountId, input.sourceBucketName, key);
      if (st === 'noBucket') throw errors.bucketNotFound(ctx.lang, { bucket: input.sourceBucketName });
      if (st === 'noObject') throw errors.fileNotFound(ctx.lang, { file: key });
      if (st.size > MAX_TRANSFER_BYTES) throw errors.fileTooLarge(ctx.lang, { file: key, size: st.size, max: MAX_TRANSFER_BYTES });
      files.push({ key, name });
    }
    const now = ctx.app.clock.now();
    await ctx.tx(async (trx) => {
      for (const f of files) {
        const row = {
          account_id: box.account_id,
          fence_id: box.fence_id,
          box_id: box.id,
          requester_key: ctx.identity.accessKeyId,
          requester_name: ctx.identity.userName,
          source_bucket: input.sourceBucketName,
          source_key: f.key,
          nas_instance_no: nas.instanceNo,
          nas_name: nas.instanceName,
          description: input.description,
          status: 'INITIALIZED',
          size: null,
          sha256: null,
          error: null,
          created_at: now,
          completed_at: null,
        };
        const fileId = await svc.repo.insertImport(trx, row, f.name);
        await svc.enqueueTransfer(trx, IMPORT_FILE, 'import', fileId);
        await ctx.audit(trx, 'import.request', `${boxResource(box)}/import/${fileId}`, {
          status: 'INITIALIZED',
          source: `${input.sourceBucketName}/${f.key}`,
          nas: nas.instanceName,
          file: `${fileId}_${f.name}`,
        });
      }
    });
    return message('create-file-import');
  },

  async getImportList(ctx, input) {
    const { box } = await ctx.svc.requireBox(ctx, input.fenceId, input.boxId);
    const { total, rows } = await ctx.svc.repo.pageImports(box.id, filterOf(ctx, input), paging(input));
    return { totalCount: total, content: rows.map((r) => importRecord(ctx, box, r)) };
  },

  async getImportDetail(ctx, input) {
    const { box } = await ctx.svc.requireBox(ctx, input.fenceId, input.boxId);
    const row = await ctx.svc.repo.findImport(ctx.identity.accountId, box.id, input.fileId);
    if (!row) throw errors.requestNotFound(ctx.lang, { fileId: input.fileId, boxId: box.id });
    return importRecord(ctx, box, row);
  },

  // ── export (§4.5) ─────────────────────────────────────────────────────────────────────────

  async getSourceNasList(ctx, input) {
    await ctx.svc.requireBox(ctx, input.fenceId, input.boxId);
    return nasList(await ctx.svc.boxNas(input.boxId));
  },

  async createFileExport(ctx, input) {
    const { svc } = ctx;
    const { fence, box } = await svc.requireBox(ctx, input.fenceId, input.boxId);
    const nas = await requireNas(ctx, box.id, input.sourceNasInstanceNo);
    const s3 = ctx.app.api('s3');
    // The review bucket is no export target: nothing leaves through it.
    if (input.targetBucketName === fence.export_bucket || !(await s3.bucketExists(ctx.identity.accountId, input.targetBucketName))) {
      throw errors.bucketNotFound(ctx.lang, { bucket: input.targetBucketName });
    }
    if (new Set(input.sourceFilePathList).size !== input.sourceFilePathList.length) {
      throw errors.invalidParameter(ctx.lang, {}, 'a file is named twice in sourceFilePathList');
    }
    const policy = svc.policyFor(fence.id);
    const volume = await ctx.app.volumes.open(nas.volumeId);
    for (const file of input.sourceFilePathList) {
      let st;
      try {
        st = await volume.stat(file);
      } catch (e) {
        if (e instanceof InvalidPathError) throw errors.invalidParameter(ctx.lang, {}, e.message);
        throw e;
      }
      if (!st || st.type !== 'file') throw errors.fileNotFound(ctx.lang, { file });
      if (st.size > MAX_TRANSFER_BYTES) throw errors.fileTooLarge(ctx.lang, { file, size: st.size, max: MAX_TRANSFER_BYTES });
      if (policy.allowedExtensions !== null && !policy.allowedExtensions.includes(extensionOf(file))) {
        throw errors.extensionNotAllowed(ctx.lang, { file, allowed: policy.allowedExtensions.join(', ') || '(none)' });
      }
      if (policy.maxSizeBytes !== null && st.size > policy.maxSizeBytes) {
        throw errors.overPolicySize(ctx.lang, { file, size: st.size, max: policy.maxSizeBytes });
      }
    }
    const now = ctx.app.clock.now();
    await ctx.tx(async (trx) => {
      for (const file of input.sourceFilePathList) {
        const row = {
          account_id: box.account_id,
          fence_id: box.fence_id,
          box_id: box.id,
          requester_user_id: ctx.identity.userId,
          requester_name: ctx.identity.userName,
          requester_key: ctx.identity.accessKeyId,
          nas_instance_no: nas.instanceNo,
          nas_name: nas.instanceName,
          source_path: file,
          target_bucket: input.targetBucketName,
          review_bucket: fence.export_bucket,
          file_description: input.fileDescription,
          export_purpose: input.exportPurpose,
          description: input.description,
          status: 'INITIALIZED',
          approvals_required: ctx.app.config.exportApprovals,
          size: null,
          sha256: null,
          reject_reason: '',
          error: null,
          created_at: now,
          result_at: null,
          completed_at: null,
        };
        // screenFilePath (§1.5): `{request time}_{fileId}_{sourceFilePath}`.
        const fileId = await svc.repo.insertExport(trx, row, (id) => `${kstIso(now)}_${id}_${file}`);
        await svc.enqueueTransfer(trx, EXPORT_UPLOAD, 'export', fileId);
        await ctx.audit(trx, 'export.request', `${boxResource(box)}/export/${fileId}`, {
          status: 'INITIALIZED',
          source: `${nas.instanceName}/${file}`,
          target: input.targetBucketName,
          approvalsRequired: row.approvals_required,
        });
      }
    });
    return message('create-file-export');
  },

  async getExportList(ctx, input) {
    const { box } = await ctx.svc.requireBox(ctx, input.fenceId, input.boxId);
    const { total, rows } = await ctx.svc.repo.pageExports(box.id, filterOf(ctx, input), paging(input));
    return { totalCount: total, content: rows.map((r) => exportRecord(ctx, box, r)) };
  },

  async getExportDetail(ctx, input) {
    const { box } = await ctx.svc.requireBox(ctx, input.fenceId, input.boxId);
    return exportRecord(ctx, box, await requireExport(ctx, box.id, input.fileId));
  },

  async cancelFileExport(ctx, input) {
    const { svc } = ctx;
    const { box } = await svc.requireBox(ctx, input.fenceId, input.boxId);
    const found = await requireExport(ctx, box.id, input.fileId);
    // [inferred] The requester cancels; an owner or fence admin of the account may too. Another
    // box user of the box may not.
    if (ctx.identity.role === 'box-user' && found.requester_user_id !== ctx.identity.userId) throw errors.notOwner(ctx.lang);
    const after = await ctx.tx(async (trx) => {
      const row = (await svc.repo.getExport(trx, found.id))!;
      if (!CANCELLABLE.includes(row.status) || !(await svc.repo.updateExport(trx, row.id, CANCELLABLE, { status: 'CANCELED', completed_at: ctx.app.clock.now() }))) {
        throw errors.notReviewable(ctx.lang, { fileId: row.id, status: row.status });
      }
      // The copy under review goes with the request; a copy still under way is discarded by its task.
      const done = row.status === 'UPLOADED' ? await ctx.app.api('s3').deleteObject(trx, row.account_id, row.review_bucket, row.screen_path) : undefined;
      await ctx.audit(trx, 'export.cancel', `${boxResource(box)}/export/${row.id}`, { from: row.status, to: 'CANCELED' });
      return done;
    });
    await after?.();
    return message('cancel-file-export');
  },

  // ── export review (§4.6) ──────────────────────────────────────────────────────────────────

  async getExportFileApproveList(ctx, input) {
    const { svc } = ctx;
    const { fence, box } = await svc.requireBox(ctx, input.fenceId, input.boxId);
    const { total, rows } = await svc.repo.pageExports(box.id, filterOf(ctx, input), paging(input));
    const votes = await svc.repo.votes(rows.map((r) => r.id));
    return {
      totalCount: total,
      reviewBucketName: fence.export_bucket,
      content: rows.map((r) => reviewRecord(ctx, fence, box, r, votes.filter((v) => v.export_id === r.id))),
    };
  },

  async getExportFileApproveDetail(ctx, input) {
    const { svc } = ctx;
    const { fence, box } = await svc.requireBox(ctx, input.fenceId, input.boxId);
    const row = await requireExport(ctx, box.id, input.fileId);
    return reviewRecord(ctx, fence, box, row, await svc.repo.votes([row.id]));
  },

  async exportFileApprove(ctx, input) {
    await vote(ctx, input, 'APPROVE', '');
    return message('export-file-approve');
  },

  async exportFileReject(ctx, input) {
    await vote(ctx, input, 'REJECT', input.rejectReason);
    return message('export-file-reject');
  },
});

// ── import / export helpers ────────────────────────────────────────────────────────────────

/** A NAS file name is one path segment: `{fileId}_` and the object's name fit in 255 bytes. */
const MAX_NAME_BYTES = 240;
/** [inferred] An export request can be canceled until it is decided. */
const CANCELLABLE = ['INITIALIZED', 'UPLOADING', 'UPLOADED'];
const MIB = 1024 * 1024;

const nasList = (nas: BoxNas[]) => ({
  content: nas.map((n) => ({ boxStorageId: n.boxStorageId, instanceNo: n.instanceNo, instanceName: n.instanceName })),
});

/** The box's NAS in use with this instance number (2610002 otherwise). */
async function requireNas(ctx: Ctx, boxId: number, instanceNo: number | string): Promise<BoxNas> {
  const nas = (await ctx.svc.boxNas(boxId)).find((n) => String(n.instanceNo) === String(instanceNo).trim());
  if (!nas) throw errors.nasNotInBox(ctx.lang, { instanceNo: String(instanceNo), boxId });
  return nas;
}

async function requireExport(ctx: Ctx, boxId: number, fileId: number): Promise<ExportRow> {
  const row = await ctx.svc.repo.findExport(ctx.identity.accountId, boxId, fileId);
  if (!row) throw errors.requestNotFound(ctx.lang, { fileId, boxId });
  return row;
}

/** `yyyyMMddHHmmss` (KST, §1.7) → ms; 10001 for a date that does not exist. `end`: the last ms of that second. */
function kstTime(ctx: Ctx, v: string, end: boolean): number {
  const [y, mo, d, h, mi, se] = [v.slice(0, 4), v.slice(4, 6), v.slice(6, 8), v.slice(8, 10), v.slice(10, 12), v.slice(12, 14)].map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, se) - 9 * 3600_000;
  const back = new Date(ms + 9 * 3600_000);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) {
    throw errors.invalidParameter(ctx.lang, {}, `${v} is not a date-time yyyyMMddHHmmss`);
  }
  return end ? ms + 999 : ms;
}

/** The list filters: a status, and `from`/`to` on the request time, both inclusive ([inferred]). */
function filterOf(ctx: Ctx, input: { status?: string; from?: string; to?: string }): RequestFilter {
  const f: RequestFilter = {};
  if (input.status !== undefined) f.status = input.status;
  if (input.from !== undefined) f.from = kstTime(ctx, input.from, false);
  if (input.to !== undefined) f.to = kstTime(ctx, input.to, true);
  return f;
}

function importRecord(ctx: Ctx, box: BoxRow, r: ImportRow) {
  return {
    fileId: r.id,
    fenceId: r.fence_id,
    boxId: r.box_id,
    boxName: box.name,
    sourceBucketName: r.source_bucket,
    sourceFilePath: r.source_key,
    targetNasName: r.nas_name,
    description: r.description,
    statusCode: r.status as (typeof IMPORT_STATUS_CODES)[number],
    statusName: importStatusName(ctx.lang, r.status),
    createDate: kstIso(r.created_at),
    completeDate: r.completed_at === null ? '' : kstIso(r.completed_at),
  };
}

/** The statuses a requester and a reviewer see (a canceled request is never listed). */
const exportStatus = (r: ExportRow) => r.status as (typeof EXPORT_STATUS_CODES)[number];

function exportRecord(ctx: Ctx, box: BoxRow, r: ExportRow) {
  return {
    fileId: r.id,
    fenceId: r.fence_id,
    boxId: r.box_id,
    boxName: box.name,
    requesterId: r.requester_name,
    sourceNasName: r.nas_name,
    sourceFilePath: r.source_path,
    targetBucketName: r.target_bucket,
    statusCode: exportStatus(r),
    statusName: exportStatusName(ctx.lang, r.status),
    rejectReason: r.reject_reason,
    description: r.description,
    createDate: kstIso(r.created_at),
    resultDate: r.result_at === null ? '' : kstIso(r.result_at),
  };
}

function reviewRecord(ctx: Ctx, fence: FenceRow, box: BoxRow, r: ExportRow, votes: VoteRow[]) {
  const decided = r.result_at === null ? '' : kstIso(r.result_at);
  return {
    fenceId: fence.id,
    fenceName: fence.name,
    boxId: box.id,
    boxName: box.name,
    boxStatus: box.status as 'USE',
    fileId: r.id,
    requesterId: r.requester_name,
    screenFilePath: r.screen_path,
    statusCode: exportStatus(r),
    statusName: exportStatusName(ctx.lang, r.status),
    description: r.description,
    fileDescription: r.file_description,
    exportPurpose: r.export_purpose,
    rejectReason: r.reject_reason,
    // MB, rounded up: a file of a few bytes shows 1 ([inferred] from the documented example).
    fileSize: r.size === null ? 0 : Math.ceil(r.size / MIB),
    createDate: kstIso(r.created_at),
    completeDate: decided,
    resultDate: decided,
    approvalsRequired: r.approvals_required,
    sha256: r.sha256 ?? '',
    voteList: votes.map((v) => ({ reviewerId: v.user_name, vote: v.vote as 'APPROVE' | 'REJECT', reason: v.reason, voteDate: kstIso(v.at) })),
  };
}

/**
 * A reviewer's vote (issue 9 §4): only on an UPLOADED request (2610010), never by its requester
 * (2610016), once per reviewer (2610018). One rejection rejects; the request is approved once
 * `approvals_required` distinct reviewers approved, and its release task is enqueued. The
 * request's row is locked first (a no-op compare-and-set), so votes on one request are counted
 * one after another on PostgreSQL too.
 */
async function vote(ctx: Ctx, input: { fenceId: number; boxId: number; fileId: number }, choice: 'APPROVE' | 'REJECT', reason: string): Promise<void> {
  const { svc } = ctx;
  const { box } = await svc.requireBox(ctx, input.fenceId, input.boxId);
  await requireExport(ctx, box.id, input.fileId);
  await ctx.tx(async (trx) => {
    const locked = await svc.repo.updateExport(trx, input.fileId, ['UPLOADED'], { status: 'UPLOADED' });
    const row = (await svc.repo.getExport(trx, input.fileId))!;
    if (!locked) throw errors.notReviewable(ctx.lang, { fileId: row.id, status: row.status });
    if (row.requester_user_id === ctx.identity.userId) throw errors.ownRequest(ctx.lang, { fileId: row.id });
    const now = ctx.app.clock.now();
    const v = { export_id: row.id, user_id: ctx.identity.userId, user_name: ctx.identity.userName, vote: choice, reason, at: now };
    if (!(await svc.repo.insertVote(trx, v))) throw errors.alreadyVoted(ctx.lang, { fileId: row.id });
    const resource = `${boxResource(box)}/export/${row.id}`;
    const approvals = (await svc.repo.votes([row.id], trx)).filter((x) => x.vote === 'APPROVE').length;
    await ctx.audit(trx, `export.${choice === 'APPROVE' ? 'approve' : 'reject'}`, resource, {
      vote: choice,
      approvals,
      approvalsRequired: row.approvals_required,
      ...(choice === 'REJECT' ? { reason } : {}),
    });
    if (choice === 'REJECT') {
      await svc.repo.updateExport(trx, row.id, ['UPLOADED'], { status: 'REJECTED', reject_reason: reason, result_at: now, completed_at: now });
      await ctx.audit(trx, 'export.transition', resource, { from: 'UPLOADED', to: 'REJECTED' });
    } else if (approvals >= row.approvals_required) {
      await svc.repo.updateExport(trx, row.id, ['UPLOADED'], { status: 'APPROVED', result_at: now });
      await svc.enqueueTransfer(trx, EXPORT_RELEASE, 'export', row.id);
      await ctx.audit(trx, 'export.transition', resource, { from: 'UPLOADED', to: 'APPROVED', approvals });
    }
  });
}
