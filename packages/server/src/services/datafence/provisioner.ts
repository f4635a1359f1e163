/**
 * Between Datafence's model (fences, boxes, their items and states) and "infrastructure" stands a
 * provisioner. The model decides what exists and when it changes state; the provisioner gives each
 * new item its identity (instance number, name, addresses, block storage, NAS volume) and makes
 * items real or releases them when their transitions complete. All of it happens inside the
 * transaction the model commits (the request's, or the transition task's completing one), so an
 * item and what stands behind it appear and disappear together.
 *
 * The built-in provisioner runs on one host: instance numbers and storage ids come from sequences
 * in the database (unique across processes), addresses from a per-fence range, and a box NAS is a
 * platform volume (store/volumes.ts) whose quota is the NAS size. Servers and Hadoop clusters
 * cannot exist here; they are modelled only. Passwords are sealed like access-key secrets
 * (AES-256-GCM), under a key derived from the master key for this purpose.
 */
import type { AppContext } from '../../context.js';
import type { Executor } from '../../store/schema.js';
import type { SecretBox } from '../../iam/secrets.js';
import type { DatafenceRepository } from './repository.js';
import type { InfraRow } from './tables.js';

/** Product codes of infrastructure items: fence items, then box items (HD: a Hadoop cluster). */
export type InfraType = 'FENCE_UBUNTU' | 'FENCE_NAS' | 'CON' | 'SVR_LNX_UBUNTU' | 'SVR_WIN' | 'TF_CPU' | 'TF_GPU' | 'BOX_NAS' | 'HD';

export const NAS_TYPES: readonly InfraType[] = ['FENCE_NAS', 'BOX_NAS'];
export const isNas = (t: string): boolean => t === 'FENCE_NAS' || t === 'BOX_NAS';

/** Everything the provisioner hands out for a new item. */
export interface ItemIdentity {
  instanceNo: number;
  instanceName: string;
  privateIp: string;
  publicIp: string;
  blockStorageNo: number | null;
  /** Box NAS: `boxStorageId` and the volume behind it. */
  storageId: number | null;
  volumeId: string | null;
}

export interface AllocateRequest {
  accountId: string;
  fenceId: number;
  /** null for the fence's own items. */
  box: { id: number; name: string } | null;
  infraType: InfraType;
  /** 1 for the first item of its type in the fence or box, 2 for the second, … (names). */
  ordinal: number;
}

export interface Provisioner {
  /** The identity of a new item, allocated in the caller's transaction. */
  allocate(trx: Executor, req: AllocateRequest): Promise<ItemIdentity>;
  /** Seals login passwords (never returned by the API). */
  sealPasswords(passwords: Record<string, string>): string;
  openPasswords(sealed: string): Record<string, string>;
  /** The item's creation completed: make it real (in the completing transaction). */
  realize(trx: Executor, item: InfraRow): Promise<void>;
  /** Bytes stored on a NAS now (files written from inside a box count too); 0 for a modelled NAS. */
  nasUsage(item: InfraRow): Promise<number>;
  /** Resizes a NAS to `sizeGb`, refusing a size below what it stores. */
  resizeNas(trx: Executor, item: InfraRow, sizeGb: number): Promise<'ok' | 'below-usage'>;
  /**
   * The item's return completed: release what stands behind it (in the completing transaction).
   * Returns the work that must wait for the commit (removing files), if any.
   */
  release(trx: Executor, item: InfraRow): Promise<(() => Promise<void>) | undefined>;
}

export const GIB = 1024 ** 3;
/** The purpose under which server passwords are sealed (SecretBox.forPurpose). */
export const PASSWORD_KEY_PURPOSE = 'datafence-server-passwords-v1';

const INSTANCE_START = 10_000_001;
const STORAGE_START = 1_001;
/** Private addresses of a fence: 10.<fence mod 256>.<host / 256>.<host mod 256>, hosts from 11. */
const HOST_START = 11;

/** Name prefixes of box servers and clusters: `conn-{boxId}-{n}` as in the documented image example. */
const BOX_PREFIX: Partial<Record<InfraType, string>> = {
  CON: 'conn',
  SVR_LNX_UBUNTU: 'lnx',
  SVR_WIN: 'win',
  TF_CPU: 'tfc',
  TF_GPU: 'tfg',
  HD: 'hd',
};

/** The volume id of a box NAS (`boxStorageId` is unique in the store). */
export function nasVolumeId(storageId: number): string {
  return `datafence-nas-${storageId}`;
}

/** Mount paths of a NAS on Linux and on Windows servers (datafence.md §1.1). */
export function linuxMountPath(instanceName: string): string {
  return `/mnt/${instanceName}`;
}
export function windowsMountPath(instanceName: string): string {
  return `C:\\mount\\${instanceName}`;
}

export class BuiltInProvisioner implements Provisioner {
  private readonly passwords: SecretBox;

  constructor(
    private readonly app: AppContext,
    private readonly repo: DatafenceRepository,
  ) {
    this.passwords = app.secrets.forPurpose(PASSWORD_KEY_PURPOSE);
  }

  private async privateIp(trx: Executor, fenceId: number): Promise<string> {
    for (;;) {
      const h = await this.repo.next(trx, `ip:${fenceId}`, HOST_START);
      const lo = h % 256;
      if (lo === 0 || lo === 255) continue;
      return `10.${fenceId % 256}.${Math.floor(h / 256) % 256}.${lo}`;
    }
  }

  async allocate(trx: Executor, req: AllocateRequest): Promise<ItemIdentity> {
    const t = req.infraType;
    const instanceNo = await this.repo.next(trx, 'instance', INSTANCE_START);
    const server = !isNas(t);
    const out: ItemIdentity = {
      instanceNo,
      instanceName: '',
      privateIp: server ? await this.privateIp(trx, req.fenceId) : '',
      publicIp: '',
      blockStorageNo: server && t !== 'HD' && t !== 'FENCE_UBUNTU' ? await this.repo.next(trx, 'instance', INSTANCE_START) : null,
      storageId: null,
      volumeId: null,
    };
    switch (t) {
      case 'FENCE_UBUNTU': {
        out.instanceName = `fence-${req.fenceId}-${req.ordinal}`;
        // Management servers face the SSL VPN: an address from the documentation range (RFC 5737).
        const n = await this.repo.next(trx, 'public-ip', 0);
        out.publicIp = `203.0.113.${(n % 254) + 1}`;
        break;
      }
      case 'FENCE_NAS':
        out.instanceName = `fence${req.fenceId}n${req.ordinal}`;
        break;
      case 'BOX_NAS': {
        const b = req.box!;
        out.instanceName = req.ordinal === 1 ? `${b.id}${b.name}` : `${b.id}${b.name}n${req.ordinal}`;
        out.storageId = await this.repo.next(trx, 'storage', STORAGE_START);
        out.volumeId = nasVolumeId(out.storageId);
        break;
      }
      default:
        out.instanceName = `${BOX_PREFIX[t]}-${req.box!.id}-${req.ordinal}`;
    }
    return out;
  }

  sealPasswords(passwords: Record<string, string>): string {
    return this.passwords.seal(JSON.stringify(passwords));
  }

  openPasswords(sealed: string): Record<string, string> {
    return JSON.parse(this.passwords.open(sealed)) as Record<string, string>;
  }

  async realize(trx: Executor, item: InfraRow): Promise<void> {
    if (item.infra_type !== 'BOX_NAS' || !item.volume_id) return;
    if (await this.app.volumes.get(item.volume_id, trx)) return;
    await this.app.volumes.create(trx, {
      id: item.volume_id,
      service: 'datafence',
      accountId: item.account_id,
      quotaBytes: (item.nas_size ?? 0) * GIB,
    });
  }

  async nasUsage(item: InfraRow): Promise<number> {
    if (item.infra_type !== 'BOX_NAS' || !item.volume_id) return 0;
    if (!(await this.app.volumes.get(item.volume_id))) return 0;
    return this.app.volumes.measure(item.volume_id);
  }

  async resizeNas(trx: Executor, item: InfraRow, sizeGb: number): Promise<'ok' | 'below-usage'> {
    if (item.infra_type !== 'BOX_NAS' || !item.volume_id) return 'ok';
    const r = await this.app.volumes.setQuota(trx, item.volume_id, sizeGb * GIB);
    // A NAS whose creation has not completed has no volume yet: `realize` gives it the new size.
    return r === 'below-usage' ? 'below-usage' : 'ok';
  }

  async release(trx: Executor, item: InfraRow): Promise<(() => Promise<void>) | undefined> {
    if (item.infra_type !== 'BOX_NAS' || !item.volume_id) return undefined;
    const id = item.volume_id;
    await this.app.volumes.drop(trx, id);
    return () => this.app.volumes.removeFiles(id);
  }
}
