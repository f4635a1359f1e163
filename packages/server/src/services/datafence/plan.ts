/**
 * What create-box, change-box-infra and change-datafence-infra ask for, checked against the product
 * catalogue, the request's conditional fields and the items that exist, and turned into a plan:
 * items to create, items to change, items to return. Nothing here writes; the handlers apply a
 * plan in their transaction. Checks and their codes (docs/datafence.md):
 *
 * - a field a CREATE or UPDATE needs is missing, an item is named twice → 10001;
 * - a spec code or software code that is not the product's in get-product-spec → 2600072 / 2600073;
 * - an UPDATE or DELETE naming no live server or cluster of that kind → 2600040, no live NAS → 2600041;
 * - the resulting count of a server product outside its range → 2600031 (also Hadoop worker nodes),
 *   no Linux and no Windows server → 2600033, NAS outside 1..10 → 2600035, more than 2 clusters → 2600038.
 */
import type { Lang } from '../../platform/i18n.js';
import { defaultSoftware, isSoftwareOf, productOf, specOf } from './catalog.js';
import { errors } from './errors.js';
import type { InfraType } from './provisioner.js';
import type { InfraRow } from './tables.js';
import { PRODUCT_NAMES } from './texts.js';

/** What a new item is made of. */
export interface NewItem {
  infraType: InfraType;
  specCode: string;
  softwareCode: string;
  /** Block storage (GB) of a server; null for NAS and clusters. */
  storageSize: number | null;
  /** NAS size (GB). */
  nasSize: number | null;
  /** Login passwords by account (`ncp1`, `ncp2`, `root`, …), sealed when stored. */
  passwords: Record<string, string> | null;
  detail: Record<string, unknown> | null;
}

/** An UPDATE of a live item: the fields it changes. */
export interface ItemUpdate {
  item: InfraRow;
  specCode?: string;
  softwareCode?: string;
  storageSize?: number;
  passwords?: Record<string, string>;
  detail?: Record<string, unknown>;
}

export interface Plan {
  create: NewItem[];
  update: ItemUpdate[];
  remove: InfraRow[];
}

/** Hadoop cluster node specs and sizes, as stored in `infra.detail`. */
export interface HadoopDetail {
  edgeNodeSpecCode: string;
  masterNodeSpecCode: string;
  masterNodeStorageSize: number;
  workerNodeSpecCode: string;
  workerNodeCount: number;
  workerNodeStorageSize: number;
}

type Action = 'CREATE' | 'UPDATE' | 'DELETE';
type Ref = number | string | undefined;

interface ServerEntry {
  actionType?: Action;
  serverInstanceNo?: Ref;
  blockStorageInstanceNo?: Ref;
  specCode?: string;
  softwareCode?: string;
  storageSize?: number;
  userPassword?: string;
  userPassword1?: string;
  userPassword2?: string;
  serverImageNo?: Ref;
}

interface NasEntry {
  actionType?: 'CREATE' | 'DELETE';
  nasInstanceNo?: Ref;
  nasSize?: number;
  count?: number;
}

interface HadoopEntry {
  actionType?: Action;
  hadoopClusterNo?: Ref;
  EdgeNodeSpecCode?: string;
  edgeNodeSpecCode?: string;
  masterNodeSpecCode?: string;
  masterNodeStorageSize?: number;
  workerNodeSpecCode?: string;
  workerNodeCount?: number;
  workerNodeStorageSize?: number;
  userPassword?: string;
}

/** The server lists of create-box / change-box-infra and the product each holds. */
export const BOX_SERVER_LISTS = [
  ['connectServerList', 'CON'],
  ['linuxServerList', 'SVR_LNX_UBUNTU'],
  ['windowsServerList', 'SVR_WIN'],
  ['tensorFlowCpuServerList', 'TF_CPU'],
  ['tensorFlowGpuServerList', 'TF_GPU'],
] as const satisfies ReadonlyArray<readonly [string, InfraType]>;

export interface BoxInfraRequest {
  connectServerList?: ServerEntry[];
  linuxServerList?: ServerEntry[];
  windowsServerList?: ServerEntry[];
  tensorFlowCpuServerList?: ServerEntry[];
  tensorFlowGpuServerList?: ServerEntry[];
  /** create-box */
  nasList?: NasEntry[];
  /** change-box-infra */
  boxNasList?: NasEntry[];
  hadoopList?: HadoopEntry[];
}

export interface FenceInfraRequest {
  fenceServerList?: ServerEntry[];
  fenceNasList?: NasEntry[];
}

const MAX_HADOOP_CLUSTERS = 2;

/** Resulting-count ranges of a box: the catalogue's maxima; a box needs one connect server. */
function range(type: InfraType): { min: number; max: number } {
  const p = productOf(type === 'HD' ? 'HD_WORKER' : type);
  if (type === 'HD') return { min: 0, max: MAX_HADOOP_CLUSTERS };
  if (type === 'CON' || type === 'FENCE_UBUNTU' || type === 'FENCE_NAS' || type === 'BOX_NAS') return { min: 1, max: p.maxQuantity };
  return { min: 0, max: p.maxQuantity };
}

/** Builds plans, raising the documented errors in `lang`. */
export class Planner {
  private readonly plan: Plan = { create: [], update: [], remove: [] };
  /** Items an UPDATE or DELETE of this request already names. */
  private readonly named = new Set<number>();

  constructor(
    private readonly lang: Lang,
    /** The live items of the fence or box (empty for create-box). */
    private readonly live: readonly InfraRow[],
    /** Checks a fence server's custom image (change-datafence-infra); true when it exists. */
    private readonly imageExists: (imageNo: number) => Promise<boolean> = async () => false,
  ) {}

  private invalid(detail: string): never {
    throw errors.invalidParameter(this.lang, {}, detail);
  }

  private required<T>(v: T | undefined, field: string): T {
    if (v === undefined || v === null || v === '') this.invalid(`${field} is required`);
    return v;
  }

  private spec(productCode: string, specCode: string): void {
    if (!specOf(productCode, specCode)) throw errors.unknownSpecCode(this.lang, { specCode, productCode });
  }

  private software(productCode: string, softwareCode: string): void {
    if (!isSoftwareOf(productCode, softwareCode)) throw errors.unknownSoftwareCode(this.lang, { softwareCode, productCode });
  }

  /** The live item `ref` names among `types`, for an UPDATE or DELETE. */
  private target(ref: Ref, field: string, types: readonly InfraType[]): InfraRow {
    const raw = this.required(ref, field);
    const instanceNo = Number(raw);
    const item = this.live.find((i) => i.instance_no === instanceNo && (types as readonly string[]).includes(i.infra_type));
    if (!item) {
      if (types.some((t) => t === 'BOX_NAS' || t === 'FENCE_NAS')) throw errors.nasNotFound(this.lang, { instanceNo });
      throw errors.serverNotFound(this.lang, { product: PRODUCT_NAMES[types[0]!] ?? types[0]!, instanceNo });
    }
    if (this.named.has(item.id)) this.invalid(`${field}: instance ${instanceNo} is named twice in the request`);
    this.named.add(item.id);
    return item;
  }

  private passwordsOf(type: InfraType, e: ServerEntry, where: string, create: boolean): Record<string, string> | undefined {
    if (type === 'CON') {
      if (create) this.required(e.userPassword1, `${where}.userPassword1`);
      if (e.userPassword1 === undefined && e.userPassword2 === undefined) return undefined;
      return { ...(e.userPassword1 ? { ncp1: e.userPassword1 } : {}), ...(e.userPassword2 ? { ncp2: e.userPassword2 } : {}) };
    }
    if (create) this.required(e.userPassword, `${where}.userPassword`);
    return e.userPassword === undefined ? undefined : { root: e.userPassword };
  }

  /** One server entry of create-box (no actionType) or a change (actionType). */
  async server(type: InfraType, e: ServerEntry, where: string): Promise<void> {
    const action = e.actionType ?? 'CREATE';
    if (action === 'CREATE') {
      const specCode = this.required(e.specCode, `${where}.specCode`);
      // A connect server may name no software: it gets its product's.
      const softwareCode = type === 'CON' ? (e.softwareCode ?? defaultSoftware(type)) : this.required(e.softwareCode, `${where}.softwareCode`);
      const storageSize = type === 'FENCE_UBUNTU' ? null : this.required(e.storageSize, `${where}.storageSize`);
      const passwords = this.passwordsOf(type, e, where, true)!;
      this.spec(type, specCode);
      this.software(type, softwareCode);
      let detail: Record<string, unknown> | null = null;
      if (type === 'FENCE_UBUNTU' && e.serverImageNo !== undefined) {
        const imageNo = Number(e.serverImageNo);
        if (!(await this.imageExists(imageNo))) this.invalid(`${where}.serverImageNo: no custom image ${imageNo} of this Datafence`);
        detail = { serverImageNo: imageNo };
      }
      this.plan.create.push({ infraType: type, specCode, softwareCode, storageSize, nasSize: null, passwords, detail });
      return;
    }
    const item = this.target(e.serverInstanceNo, `${where}.serverInstanceNo`, [type]);
    if (e.blockStorageInstanceNo !== undefined && Number(e.blockStorageInstanceNo) !== item.block_storage_no) {
      throw errors.serverNotFound(this.lang, {
        product: `block storage of ${PRODUCT_NAMES[type] ?? type}`,
        instanceNo: Number(e.blockStorageInstanceNo),
      });
    }
    if (action === 'DELETE') {
      this.plan.remove.push(item);
      return;
    }
    const u: ItemUpdate = { item };
    if (e.specCode !== undefined) {
      this.spec(type, e.specCode);
      u.specCode = e.specCode;
    }
    if (e.softwareCode !== undefined) {
      this.software(type, e.softwareCode);
      u.softwareCode = e.softwareCode;
    }
    if (e.storageSize !== undefined && type !== 'FENCE_UBUNTU') {
      if (e.storageSize < (item.block_storage_size ?? 0)) {
        this.invalid(`${where}.storageSize: block storage cannot shrink below ${item.block_storage_size} GB`);
      }
      u.storageSize = e.storageSize;
    }
    const passwords = this.passwordsOf(type, e, where, false);
    if (passwords) u.passwords = passwords;
    this.plan.update.push(u);
  }

  nas(type: 'BOX_NAS' | 'FENCE_NAS', e: NasEntry, where: string): void {
    if ((e.actionType ?? 'CREATE') === 'DELETE') {
      this.plan.remove.push(this.target(e.nasInstanceNo, `${where}.nasInstanceNo`, [type]));
      return;
    }
    const nasSize = this.required(e.nasSize, `${where}.nasSize`);
    const count = this.required(e.count, `${where}.count`);
    for (let i = 0; i < count; i++) {
      this.plan.create.push({ infraType: type, specCode: '', softwareCode: '', storageSize: null, nasSize, passwords: null, detail: null });
    }
  }

  private workerCount(n: number): void {
    const w = productOf('HD_WORKER');
    if (n < w.minQuantity || n > w.maxQuantity) {
      throw errors.serverCountOutOfRange(this.lang, { product: PRODUCT_NAMES.HD_WORKER!, count: n, min: w.minQuantity, max: w.maxQuantity });
    }
  }

  hadoop(e: HadoopEntry, where: string): void {
    const action = e.actionType ?? 'CREATE';
    if (action === 'CREATE') {
      const d: HadoopDetail = {
        edgeNodeSpecCode: this.required(e.EdgeNodeSpecCode ?? e.edgeNodeSpecCode, `${where}.EdgeNodeSpecCode`),
        masterNodeSpecCode: this.required(e.masterNodeSpecCode, `${where}.masterNodeSpecCode`),
        masterNodeStorageSize: this.required(e.masterNodeStorageSize, `${where}.masterNodeStorageSize`),
        workerNodeSpecCode: this.required(e.workerNodeSpecCode, `${where}.workerNodeSpecCode`),
        workerNodeCount: this.required(e.workerNodeCount, `${where}.workerNodeCount`),
        workerNodeStorageSize: this.required(e.workerNodeStorageSize, `${where}.workerNodeStorageSize`),
      };
      const password = this.required(e.userPassword, `${where}.userPassword`);
      this.spec('HD_EDGE', d.edgeNodeSpecCode);
      this.spec('HD_MASTER', d.masterNodeSpecCode);
      this.spec('HD_WORKER', d.workerNodeSpecCode);
      this.workerCount(d.workerNodeCount);
      this.plan.create.push({
        infraType: 'HD',
        specCode: d.masterNodeSpecCode,
        softwareCode: defaultSoftware('HD_MASTER'),
        storageSize: null,
        nasSize: null,
        passwords: { root: password },
        detail: { ...d },
      });
      return;
    }
    const item = this.target(e.hadoopClusterNo, `${where}.hadoopClusterNo`, ['HD']);
    if (action === 'DELETE') {
      this.plan.remove.push(item);
      return;
    }
    // UPDATE: node specs and the worker count (storage sizes are set at creation).
    const d = { ...(JSON.parse(item.detail ?? '{}') as HadoopDetail) };
    const edge = e.edgeNodeSpecCode ?? e.EdgeNodeSpecCode;
    if (edge !== undefined) {
      this.spec('HD_EDGE', edge);
      d.edgeNodeSpecCode = edge;
    }
    if (e.masterNodeSpecCode !== undefined) {
      this.spec('HD_MASTER', e.masterNodeSpecCode);
      d.masterNodeSpecCode = e.masterNodeSpecCode;
    }
    if (e.workerNodeSpecCode !== undefined) {
      this.spec('HD_WORKER', e.workerNodeSpecCode);
      d.workerNodeSpecCode = e.workerNodeSpecCode;
    }
    if (e.workerNodeCount !== undefined) {
      this.workerCount(e.workerNodeCount);
      d.workerNodeCount = e.workerNodeCount;
    }
    this.plan.update.push({
      item,
      specCode: d.masterNodeSpecCode,
      detail: { ...d },
      ...(e.userPassword !== undefined ? { passwords: { root: e.userPassword } } : {}),
    });
  }

  /** The live items after the plan, per type. */
  private resulting(type: InfraType): number {
    const removed = new Set(this.plan.remove.map((i) => i.id));
    return (
      this.live.filter((i) => i.infra_type === type && !removed.has(i.id)).length + this.plan.create.filter((c) => c.infraType === type).length
    );
  }

  private countIn(type: InfraType): void {
    const n = this.resulting(type);
    const { min, max } = range(type);
    if (n >= min && n <= max) return;
    if (type === 'BOX_NAS' || type === 'FENCE_NAS') throw errors.nasCountOutOfRange(this.lang, { count: n, min, max });
    if (type === 'HD') throw errors.hadoopClusterLimit(this.lang, { count: n, max });
    throw errors.serverCountOutOfRange(this.lang, { product: PRODUCT_NAMES[type] ?? type, count: n, min, max });
  }

  /** The plan of a box request (create-box: `live` is empty; change-box-infra: the box's live items). */
  async box(req: BoxInfraRequest): Promise<Plan> {
    for (const [list, type] of BOX_SERVER_LISTS) {
      for (const [i, e] of (req[list] ?? []).entries()) await this.server(type, e, `${list}[${i}]`);
    }
    const nasList = req.nasList ? 'nasList' : 'boxNasList';
    for (const [i, e] of (req.nasList ?? req.boxNasList ?? []).entries()) this.nas('BOX_NAS', e, `${nasList}[${i}]`);
    for (const [i, e] of (req.hadoopList ?? []).entries()) this.hadoop(e, `hadoopList[${i}]`);
    for (const [, type] of BOX_SERVER_LISTS) this.countIn(type);
    if (this.resulting('SVR_LNX_UBUNTU') + this.resulting('SVR_WIN') === 0) throw errors.noAnalysisServer(this.lang);
    this.countIn('BOX_NAS');
    this.countIn('HD');
    return this.plan;
  }

  /** The plan of change-datafence-infra against the fence's live items. */
  async fence(req: FenceInfraRequest): Promise<Plan> {
    for (const [i, e] of (req.fenceServerList ?? []).entries()) await this.server('FENCE_UBUNTU', e, `fenceServerList[${i}]`);
    for (const [i, e] of (req.fenceNasList ?? []).entries()) this.nas('FENCE_NAS', e, `fenceNasList[${i}]`);
    this.countIn('FENCE_UBUNTU');
    this.countIn('FENCE_NAS');
    return this.plan;
  }
}
