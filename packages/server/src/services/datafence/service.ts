/** Datafence's instance: its repository, provisioner, lifecycles, and the hooks the platform calls. */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext, RequestContext } from '../../context.js';
import type { ServiceHooks } from '../../platform/service.js';
import type { Executor } from '../../store/schema.js';
import { SYSTEM_ACTOR } from '../../store/audit.js';
import type { DatafenceApi } from './api.js';
import { errors } from './errors.js';
import type { Plan } from './plan.js';
import { BuiltInProvisioner, isNas, linuxMountPath, windowsMountPath, type InfraType, type Provisioner } from './provisioner.js';
import { DatafenceRepository, type BoxScope } from './repository.js';
import type { BoxRow, FenceRow, InfraRow } from './tables.js';
import { BOX_TRANSITION, FENCE_TRANSITION, type BoxTransitionPayload } from './tasks.js';
import { HISTORY_INFRA_TYPE } from './texts.js';
import { nasControl } from './nas-control.js';
import { Airlock, loadPolicyFile, parsePolicies, type ExportPolicy } from './airlock.js';
import { runBoxSession, type SessionOptions } from './sandbox.js';

/** Fence names: 3–30 lower-case letters, digits and hyphens (they also begin the review bucket's name). */
export const FENCE_NAME = /^[a-z][a-z0-9-]{2,29}$/;

/** Lifecycle kinds (`--transitions box=manual,fence=delay:2000`). */
export const LIFECYCLE_KINDS = { box: 'box', fence: 'fence', import: 'import', export: 'export' } as const;

/** A box NAS as other parts of Stockade see it (imports land here, exports are taken from here). */
export interface BoxNas {
  boxStorageId: number;
  instanceNo: number;
  instanceName: string;
  status: string;
  sizeGb: number;
  /** The platform volume (`app.volumes`) holding its files. */
  volumeId: string;
  linuxMountPath: string;
  windowsMountPath: string;
}

/** The fence's own items a new fence starts with: one management server and one 500 GB NAS. */
const FENCE_START = { serverSpec: 'SVR.VSVR.STAND.C002.M008.NET.HDD.B050.G002', serverSoftware: 'SW.VSVR.OS.LNX64.UBNTU.SVR2204.B050', nasSize: 500 };

export class DatafenceService implements ServiceHooks {
  readonly repo: DatafenceRepository;
  readonly provisioner: Provisioner;
  readonly api: DatafenceApi;
  readonly airlock: Airlock;
  /** Export policies (`--export-policy` and `config.exportPolicy`), read once at start. */
  private readonly policies: ReturnType<typeof parsePolicies>;

  constructor(readonly app: AppContext) {
    this.repo = new DatafenceRepository(app.store.db);
    this.airlock = new Airlock(this);
    const fromFile = app.config.exportPolicyFile ? parsePolicies(loadPolicyFile(app.config.exportPolicyFile), app.config.exportPolicyFile) : undefined;
    const given = app.config.exportPolicy ? parsePolicies(app.config.exportPolicy, 'exportPolicy') : undefined;
    this.policies = {
      fallback: given?.fallback ?? fromFile?.fallback ?? { allowedExtensions: null, maxSizeBytes: null },
      fences: new Map([...(fromFile?.fences ?? []), ...(given?.fences ?? [])]),
    };
    this.provisioner = new BuiltInProvisioner(app, this.repo);
    this.api = {
      createFence: (trx, accountId, fence) => this.createFence(trx, accountId, fence),
      listFences: (accountId) => (accountId ? this.repo.listFences(accountId) : this.repo.listAllFences()),
      bindKeyToBoxes: (trx, accountId, accessKeyId, boxIds) => this.bindKeyToBoxes(trx, accountId, accessKeyId, boxIds),
      boundBoxes: (accessKeyId) => this.repo.boundBoxes(accessKeyId),
      getBox: (boxId) => this.repo.getBox(this.app.store.db, boxId),
      boxNas: (boxId, e) => this.boxNas(boxId, e),
      runBoxSession: (opts: SessionOptions) => runBoxSession(this, opts),
    };
  }

  /**
   * A fence with its export-review bucket. The bucket is named `{fenceName}-review-{fenceId}`
   * (fence ids are unique in the store); if someone already holds that name, a random suffix is
   * added. The documented example names the bucket after the fence; a bare fence name would
   * collide across accounts, since bucket names are global. The fence starts in USE with one
   * management server and one NAS (a Datafence is provisioned outside the API).
   */
  async createFence(trx: Executor, accountId: string, opts: { name: string; description?: string }): Promise<FenceRow> {
    if (!FENCE_NAME.test(opts.name)) {
      throw new Error(`invalid fence name ${JSON.stringify(opts.name)}: 3-30 lower-case letters, digits or hyphens, starting with a letter`);
    }
    const row = {
      account_id: accountId,
      name: opts.name,
      description: opts.description ?? '',
      status: 'USE',
      export_bucket: '',
      ssl_vpn_name: `${opts.name}-sslvpn`,
      created_at: this.app.clock.now(),
      box_seq: 0,
      version: 0,
    };
    const id = await this.repo.insertFence(trx, row);
    const s3 = this.app.api('s3');
    let bucket = `${opts.name}-review-${id}`;
    while ((await s3.createBucket(trx, { name: bucket, accountId, sealedForFence: id })) === 'taken') {
      bucket = `${opts.name}-review-${id}-${randomBytes(3).toString('hex')}`;
    }
    await this.repo.setReviewBucket(trx, id, bucket);
    const fence = { id, ...row, export_bucket: bucket };
    const start: Plan = {
      create: [
        { infraType: 'FENCE_UBUNTU', specCode: FENCE_START.serverSpec, softwareCode: FENCE_START.serverSoftware, storageSize: null, nasSize: null, passwords: null, detail: null },
        { infraType: 'FENCE_NAS', specCode: '', softwareCode: '', storageSize: null, nasSize: FENCE_START.nasSize, passwords: null, detail: null },
      ],
      update: [],
      remove: [],
    };
    await this.applyPlan(trx, fence, null, start, 'USE');
    return fence;
  }

  async onAccountCreated(trx: Executor, account: { id: string }): Promise<void> {
    await this.createFence(trx, account.id, { name: 'fence-1', description: 'Default Datafence' });
  }

  control(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    return nasControl(this, req, res, path);
  }

  // ── who may see what ──────────────────────────────────────────────────────────────────────

  /** The boxes a request may see: all of the account's, or a box-user key's own. */
  async scope(ctx: RequestContext<DatafenceService>): Promise<BoxScope> {
    if (ctx.identity.role !== 'box-user') return { all: true };
    return { all: false, boxIds: await this.repo.boundBoxes(ctx.identity.accessKeyId) };
  }

  /**
   * The caller's fence, or 2600053 (also for another account's fence: existence never leaks). A
   * box-user key sees only the fences of its boxes (2600003 for the others of its account).
   */
  async requireFence(ctx: RequestContext<DatafenceService>, fenceId: number): Promise<FenceRow> {
    const fence = await this.repo.findFence(ctx.identity.accountId, fenceId);
    if (!fence) throw errors.fenceNotFound(ctx.lang, { fenceId });
    if (ctx.identity.role === 'box-user' && !(await this.repo.boundInFence(ctx.identity.accessKeyId, fenceId))) {
      throw errors.notOwner(ctx.lang);
    }
    return fence;
  }

  /** The fence, for operations on its own infrastructure: never a box-user key's (2600003). */
  async requireFenceAdmin(ctx: RequestContext<DatafenceService>, fenceId: number): Promise<FenceRow> {
    const fence = await this.requireFence(ctx, fenceId);
    if (ctx.identity.role === 'box-user') throw errors.notOwner(ctx.lang);
    return fence;
  }

  /**
   * The caller's box in the fence: 2600053 for an unknown fence, 2600054 for an unknown box; a
   * box-user key gets 2600003 for every box it is not bound to, existing or not.
   */
  async requireBox(ctx: RequestContext<DatafenceService>, fenceId: number, boxId: number): Promise<{ fence: FenceRow; box: BoxRow }> {
    const fence = await this.requireFence(ctx, fenceId);
    if (ctx.identity.role === 'box-user' && !(await this.repo.isBound(ctx.identity.accessKeyId, boxId))) {
      throw errors.notOwner(ctx.lang);
    }
    const box = await this.repo.findBox(ctx.identity.accountId, fenceId, boxId);
    if (!box) throw errors.boxNotFound(ctx.lang, { fenceId, boxId });
    return { fence, box };
  }

  /** Binds a box-user key to boxes of its account (`stockade keys create --role box-user --box ID`). */
  async bindKeyToBoxes(trx: Executor, accountId: string, accessKeyId: string, boxIds: readonly number[]): Promise<void> {
    for (const boxId of boxIds) {
      const b = await this.repo.getBox(trx, boxId);
      if (!b || b.account_id !== accountId) throw new Error(`no box ${boxId} in account ${accountId}`);
      if (b.status === 'TERMINATE') throw new Error(`box ${boxId} was returned (TERMINATE)`);
    }
    await this.repo.bindKey(trx, accountId, accessKeyId, boxIds, this.app.clock.now());
  }

  /** The NAS of a box that exist (USE or changing), oldest first. */
  async boxNas(boxId: number, e?: Executor): Promise<BoxNas[]> {
    const box = await this.repo.getBox(e ?? this.app.store.db, boxId);
    if (!box) return [];
    const items = await this.repo.items(e, box.fence_id, boxId, { live: true });
    return items
      .filter((i) => i.infra_type === 'BOX_NAS' && (i.status === 'USE' || i.status === 'ING') && i.volume_id !== null)
      .map((i) => ({
        boxStorageId: i.storage_id!,
        instanceNo: i.instance_no,
        instanceName: i.instance_name,
        status: i.status,
        sizeGb: i.nas_size ?? 0,
        volumeId: i.volume_id!,
        linuxMountPath: linuxMountPath(i.instance_name),
        windowsMountPath: windowsMountPath(i.instance_name),
      }));
  }

  /** Export requests of the box that were not canceled (get-box-summary-info `exportApplyCount`). */
  async exportApplyCount(boxId: number): Promise<number> {
    return this.repo.countExports(boxId);
  }

  /** The export policy of a fence: its own from the policy file, else the file's default, else none. */
  policyFor(fenceId: number): ExportPolicy {
    return this.policies.fences.get(fenceId) ?? this.policies.fallback;
  }

  /** Enqueues a transfer task of a request (one per request and kind), due per the `import` / `export` lifecycle policy. */
  async enqueueTransfer(trx: Executor, kind: string, lifecycleKind: 'import' | 'export', fileId: number): Promise<void> {
    const { runner, lifecycle, clock } = this.app;
    await runner.enqueue(kind, { fileId }, { db: trx, dueAt: lifecycle.dueAt(lifecycleKind, clock.now()), dedupeKey: `${kind}:${fileId}` });
  }

  /** Fences made before review buckets were sealed get theirs sealed at start (idempotent). */
  async start(): Promise<void> {
    const fences = await this.repo.listAllFences();
    if (fences.length === 0) return;
    const s3 = this.app.api('s3');
    await this.app.store.tx(async (trx) => {
      for (const f of fences) await s3.sealBucket(trx, f.export_bucket, f.id);
    });
  }

  // ── lifecycles ────────────────────────────────────────────────────────────────────────────

  /** Records that an item (or the box itself: `item` null) entered `status`. */
  async recordHistory(
    trx: Executor,
    where: { accountId: string; fenceId: number; boxId: number | null },
    item: { id: number | null; infraType: string; instanceNo: number; instanceName: string },
    status: string,
  ): Promise<void> {
    await this.repo.insertHistory(trx, {
      account_id: where.accountId,
      fence_id: where.fenceId,
      box_id: where.boxId,
      infra_id: item.id,
      infra_type: HISTORY_INFRA_TYPE[item.infraType] ?? item.infraType,
      instance_no: item.instanceNo,
      instance_name: item.instanceName,
      status,
      at: this.app.clock.now(),
    });
  }

  /** Moves an item to `status` (with other changes), recording the transition in its history. */
  async setItemStatus(trx: Executor, item: InfraRow, status: string, extra: Partial<InfraRow> = {}): Promise<void> {
    await this.repo.updateItem(trx, item.id, { status, ...extra });
    await this.recordHistory(
      trx,
      { accountId: item.account_id, fenceId: item.fence_id, boxId: item.box_id },
      { id: item.id, infraType: item.infra_type, instanceNo: item.instance_no, instanceName: item.instance_name },
      status,
    );
  }

  /**
   * Applies a plan to a fence (`box` null) or box: new items in `createStatus` (INITIALIZE, or USE
   * for a fence provisioned outside the API), changed items ING, returned items RETURN; each
   * transition in the infra history.
   */
  async applyPlan(trx: Executor, fence: FenceRow, box: BoxRow | null, plan: Plan, createStatus: 'INITIALIZE' | 'USE'): Promise<void> {
    const now = this.app.clock.now();
    const ordinals = new Map<string, number>();
    for (const c of plan.create) {
      const ever = ordinals.get(c.infraType) ?? (await this.repo.countEver(trx, fence.id, box?.id ?? null, c.infraType));
      ordinals.set(c.infraType, ever + 1);
      const id = await this.provisioner.allocate(trx, {
        accountId: fence.account_id,
        fenceId: fence.id,
        box: box && { id: box.id, name: box.name },
        infraType: c.infraType,
        ordinal: ever + 1,
      });
      const row: Omit<InfraRow, 'id'> = {
        account_id: fence.account_id,
        fence_id: fence.id,
        box_id: box?.id ?? null,
        infra_type: c.infraType,
        instance_no: id.instanceNo,
        instance_name: id.instanceName,
        spec_code: c.specCode,
        software_code: c.softwareCode,
        block_storage_no: id.blockStorageNo,
        block_storage_size: c.storageSize,
        private_ip: id.privateIp,
        public_ip: id.publicIp,
        nas_size: c.nasSize,
        storage_id: id.storageId,
        volume_id: id.volumeId,
        detail: c.detail ? JSON.stringify(c.detail) : null,
        passwords_enc: c.passwords ? this.provisioner.sealPasswords(c.passwords) : null,
        status: createStatus,
        created_at: now,
        ended_at: null,
      };
      const itemId = await this.repo.insertItem(trx, row);
      if (createStatus === 'USE') await this.provisioner.realize(trx, { id: itemId, ...row });
      await this.recordHistory(
        trx,
        { accountId: fence.account_id, fenceId: fence.id, boxId: box?.id ?? null },
        { id: itemId, infraType: c.infraType, instanceNo: id.instanceNo, instanceName: id.instanceName },
        createStatus,
      );
    }
    for (const u of plan.update) {
      await this.setItemStatus(trx, u.item, 'ING', {
        ...(u.specCode !== undefined ? { spec_code: u.specCode } : {}),
        ...(u.softwareCode !== undefined ? { software_code: u.softwareCode } : {}),
        ...(u.storageSize !== undefined ? { block_storage_size: u.storageSize } : {}),
        ...(u.detail !== undefined ? { detail: JSON.stringify(u.detail) } : {}),
        ...(u.passwords !== undefined ? { passwords_enc: this.provisioner.sealPasswords(u.passwords) } : {}),
      });
    }
    for (const item of plan.remove) await this.setItemStatus(trx, item, 'RETURN');
  }

  /** Enqueues the task that ends a box's transition `version`, due per the `box` lifecycle policy. */
  async enqueueBoxTransition(trx: Executor, payload: BoxTransitionPayload): Promise<void> {
    const { runner, lifecycle, clock } = this.app;
    await runner.enqueue(BOX_TRANSITION, payload, {
      db: trx,
      dueAt: lifecycle.dueAt(LIFECYCLE_KINDS.box, clock.now()),
      dedupeKey: `${BOX_TRANSITION}:${payload.boxId}:${payload.version}`,
    });
  }

  async enqueueFenceTransition(trx: Executor, fenceId: number, version: number): Promise<void> {
    const { runner, lifecycle, clock } = this.app;
    await runner.enqueue(FENCE_TRANSITION, { fenceId, version }, {
      db: trx,
      dueAt: lifecycle.dueAt(LIFECYCLE_KINDS.fence, clock.now()),
      dedupeKey: `${FENCE_TRANSITION}:${fenceId}:${version}`,
    });
  }

  /**
   * Ends the box's transition `payload.version` (INITIALIZE → USE, ING → USE, RETURN → TERMINATE)
   * with its items, in the task's completing transaction; nothing when it has ended already.
   * Returns the work that waits for the commit (removing returned NAS files).
   */
  async finishBoxTransition(trx: Executor, payload: BoxTransitionPayload): Promise<Array<() => Promise<void>>> {
    const after: Array<() => Promise<void>> = [];
    const box = await this.repo.getBox(trx, payload.boxId);
    if (!box || box.version !== payload.version || !['INITIALIZE', 'ING', 'RETURN'].includes(box.status)) return after;
    const from = box.status;
    const to = from === 'RETURN' ? 'TERMINATE' : 'USE';
    const now = this.app.clock.now();
    const set = { ...(payload.webBlock !== undefined ? { web_block: payload.webBlock ? 1 : 0 } : {}), ...(to === 'TERMINATE' ? { ended_at: now } : {}) };
    if (!(await this.repo.finishBoxTransition(trx, box.id, box.version, from, to, set))) return after;
    for (const item of await this.repo.items(trx, box.fence_id, box.id, { live: true })) {
      after.push(...(await this.finishItem(trx, item)));
    }
    await this.recordHistory(
      trx,
      { accountId: box.account_id, fenceId: box.fence_id, boxId: box.id },
      { id: null, infraType: 'BOX', instanceNo: box.id, instanceName: box.name },
      to,
    );
    await this.app.audit.record(trx, {
      ...SYSTEM_ACTOR,
      accountId: box.account_id,
      action: 'box.transition',
      resource: `fence/${box.fence_id}/box/${box.id}`,
      detail: { from, to, version: box.version, ...(payload.webBlock !== undefined ? { webBlockStatus: payload.webBlock } : {}) },
      clientAddress: null,
      requestId: null,
    });
    return after;
  }

  /** One item's transition ends with its owner's: INITIALIZE/ING → USE, RETURN → TERMINATE. */
  private async finishItem(trx: Executor, item: InfraRow): Promise<Array<() => Promise<void>>> {
    if (item.status === 'INITIALIZE') {
      await this.provisioner.realize(trx, item);
      await this.setItemStatus(trx, item, 'USE');
    } else if (item.status === 'ING') {
      await this.setItemStatus(trx, item, 'USE');
    } else if (item.status === 'RETURN') {
      const cleanup = await this.provisioner.release(trx, item);
      await this.setItemStatus(trx, item, 'TERMINATE', { ended_at: this.app.clock.now() });
      return cleanup ? [cleanup] : [];
    }
    return [];
  }

  /** Ends the fence's transition `version` (ING → USE) with its items. */
  async finishFenceTransition(trx: Executor, payload: { fenceId: number; version: number }): Promise<Array<() => Promise<void>>> {
    const after: Array<() => Promise<void>> = [];
    const fence = await this.repo.getFence(trx, payload.fenceId);
    if (!fence || fence.version !== payload.version || fence.status !== 'ING') return after;
    if (!(await this.repo.finishFenceTransition(trx, fence.id, fence.version, 'ING', 'USE'))) return after;
    for (const item of await this.repo.items(trx, fence.id, null, { live: true })) after.push(...(await this.finishItem(trx, item)));
    await this.app.audit.record(trx, {
      ...SYSTEM_ACTOR,
      accountId: fence.account_id,
      action: 'fence.transition',
      resource: `fence/${fence.id}`,
      detail: { from: 'ING', to: 'USE', version: fence.version },
      clientAddress: null,
      requestId: null,
    });
    return after;
  }

  /** Is a server of the box restarting (a spec change in flight, which reboots it)? → 2600010. */
  rebooting(items: readonly InfraRow[]): boolean {
    return items.some((i) => i.status === 'ING' && !isNas(i.infra_type));
  }

  /** Refuses a change of a box that is not in USE: 2600010 while a server reboots, else 2600023. */
  async requireBoxInUse(ctx: RequestContext<DatafenceService>, trx: Executor, box: BoxRow): Promise<InfraRow[]> {
    const items = await this.repo.items(trx, box.fence_id, box.id, { live: true });
    if (this.rebooting(items)) throw errors.serverRebooting(ctx.lang);
    if (box.status !== 'USE') throw errors.boxNotInUse(ctx.lang, { boxId: box.id, status: box.status });
    return items;
  }

  /** Starts a box transition (USE → `to`) decided in this transaction; 2600023 when another change won. */
  async beginBoxTransition(
    ctx: RequestContext<DatafenceService>,
    trx: Executor,
    box: BoxRow,
    to: 'ING' | 'RETURN',
    opts: { description?: string; webBlock?: boolean } = {},
  ): Promise<number> {
    const version = await this.repo.beginBoxTransition(trx, box, to, opts.description);
    if (version === undefined) {
      const now = await this.repo.getBox(trx, box.id);
      throw errors.boxNotInUse(ctx.lang, { boxId: box.id, status: now?.status ?? box.status });
    }
    await this.recordHistory(
      trx,
      { accountId: box.account_id, fenceId: box.fence_id, boxId: box.id },
      { id: null, infraType: 'BOX', instanceNo: box.id, instanceName: box.name },
      to,
    );
    await this.enqueueBoxTransition(trx, { boxId: box.id, version, ...(opts.webBlock !== undefined ? { webBlock: opts.webBlock } : {}) });
    return version;
  }

  /** Starts a fence transition (USE → ING); 2600024 when the fence is not in USE. */
  async beginFenceTransition(ctx: RequestContext<DatafenceService>, trx: Executor, fence: FenceRow, description?: string): Promise<void> {
    const version = await this.repo.beginFenceTransition(trx, fence, 'ING', description);
    if (version === undefined) {
      const now = await this.repo.getFence(trx, fence.id);
      throw errors.fenceNotInUse(ctx.lang, { fenceId: fence.id, status: now?.status ?? fence.status });
    }
    await this.enqueueFenceTransition(trx, fence.id, version);
  }

  /** The live item of the box or fence (`boxId` null) with this number among `types`, or 2600040 / 2600041. */
  async requireItem(
    ctx: RequestContext<DatafenceService>,
    fenceId: number,
    boxId: number | null,
    instanceNo: number,
    types: readonly InfraType[],
    e?: Executor,
  ): Promise<InfraRow> {
    const item = await this.repo.findItem(e, fenceId, boxId, instanceNo, types);
    if (item) return item;
    if (types.every(isNas)) throw errors.nasNotFound(ctx.lang, { instanceNo });
    throw errors.serverNotFound(ctx.lang, { product: types.join('/'), instanceNo });
  }
}
