/**
 * CFS settings: the network catalogue (availability zones, VPCs and their subnets) that create
 * requests are checked against, the number of file systems an account may have, and how often
 * file system usage is measured. Defaults below; a JSON file (`--cfs-config`, STOCKADE_CFS_CONFIG)
 * replaces any top-level key. README "Cloud File Storage" documents the format.
 */
import fs from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { addV4, contains, formatAddress, parseCidr, type AddressBytes } from './net.js';

const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' });
const SettingsSchema = Type.Object(
  {
    zones: Type.Array(Id, { minItems: 1 }),
    vpcs: Type.Array(
      Type.Object(
        {
          vpcId: Id,
          cidr: Type.String(),
          subnets: Type.Array(Type.Object({ subnetId: Id, zone: Id, cidr: Type.String() }, { additionalProperties: false })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    /** File systems an account may have (GetFsQuota's `total`). */
    fileSystemsPerAccount: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    /** Seconds between two measurements of every file system's usage. */
    usageIntervalSeconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
  },
  { additionalProperties: false },
);
export type CfsSettings = Static<typeof SettingsSchema>;

export const DEFAULT_SETTINGS: CfsSettings = {
  zones: ['zoneA', 'zoneB', 'zoneC', 'zoneD'],
  vpcs: [
    {
      vpcId: 'vpc-stockade0001',
      cidr: '192.168.0.0/16',
      subnets: [
        { subnetId: 'sbn-stockade000a', zone: 'zoneA', cidr: '192.168.0.0/20' },
        { subnetId: 'sbn-stockade000b', zone: 'zoneB', cidr: '192.168.16.0/20' },
        { subnetId: 'sbn-stockade000c', zone: 'zoneC', cidr: '192.168.32.0/20' },
        { subnetId: 'sbn-stockade000d', zone: 'zoneD', cidr: '192.168.48.0/20' },
      ],
    },
  ],
  fileSystemsPerAccount: 20,
  usageIntervalSeconds: 30,
};

export interface Subnet {
  subnetId: string;
  vpcId: string;
  zone: string;
  /** First and last address a mount target may take: the network's, past the first two and before the last. */
  first: AddressBytes;
  last: AddressBytes;
  network: AddressBytes;
  prefix: number;
}

/** The settings, checked, with lookups. */
export class Catalogue {
  readonly zones: ReadonlySet<string>;
  readonly defaultVpcId: string;
  private readonly vpcs = new Map<string, Map<string, Subnet>>();

  constructor(readonly settings: CfsSettings) {
    this.zones = new Set(settings.zones);
    this.defaultVpcId = settings.vpcs[0]!.vpcId;
    const subnetIds = new Set<string>();
    for (const v of settings.vpcs) {
      if (this.vpcs.has(v.vpcId)) throw new Error(`VPC ${v.vpcId} is listed twice`);
      const vnet = parseCidr(v.cidr);
      if (!vnet || vnet.address.length !== 4) throw new Error(`VPC ${v.vpcId}: cidr ${JSON.stringify(v.cidr)} is not an IPv4 network such as 192.168.0.0/16`);
      const subnets = new Map<string, Subnet>();
      for (const s of v.subnets) {
        if (subnetIds.has(s.subnetId)) throw new Error(`subnet ${s.subnetId} is listed twice`);
        subnetIds.add(s.subnetId);
        if (!this.zones.has(s.zone)) throw new Error(`subnet ${s.subnetId}: zone ${s.zone} is not one of the zones`);
        const net = parseCidr(s.cidr);
        if (!net || net.address.length !== 4 || net.prefix > 29) {
          throw new Error(`subnet ${s.subnetId}: cidr ${JSON.stringify(s.cidr)} is not an IPv4 network of at least 8 addresses`);
        }
        if (net.prefix < vnet.prefix || !contains(vnet.address, vnet.prefix, net.address)) {
          throw new Error(`subnet ${s.subnetId}: ${s.cidr} is not inside its VPC's ${v.cidr}`);
        }
        const size = 2 ** (32 - net.prefix);
        subnets.set(s.subnetId, {
          subnetId: s.subnetId,
          vpcId: v.vpcId,
          zone: s.zone,
          network: net.address,
          prefix: net.prefix,
          first: addV4(net.address, 2)!,
          last: addV4(net.address, size - 2)!,
        });
      }
      this.vpcs.set(v.vpcId, subnets);
    }
  }

  hasVpc(vpcId: string): boolean {
    return this.vpcs.has(vpcId);
  }

  subnet(vpcId: string, subnetId: string): Subnet | undefined {
    return this.vpcs.get(vpcId)?.get(subnetId);
  }

  /** The zone a VPC's subnet is in (for QueryMountedClients), by subnet id alone. */
  zoneOfSubnet(subnetId: string): string | undefined {
    for (const subnets of this.vpcs.values()) {
      const s = subnets.get(subnetId);
      if (s) return s.zone;
    }
    return undefined;
  }

  /** Is `address` one a mount target in `s` may take? */
  static inRange(s: Subnet, address: AddressBytes): boolean {
    if (address.length !== 4 || !contains(s.network, s.prefix, address)) return false;
    const n = (a: AddressBytes) => ((a[0]! << 24) >>> 0) + (a[1]! << 16) + (a[2]! << 8) + a[3]!;
    return n(address) >= n(s.first) && n(address) <= n(s.last);
  }

  /** The lowest address of `s` that `taken` does not hold; null when the subnet is full. */
  static firstFree(s: Subnet, taken: ReadonlySet<string>): string | null {
    for (let a: AddressBytes | null = s.first; a && Catalogue.inRange(s, a); a = addV4(a, 1)) {
      const text = formatAddress(a);
      if (!taken.has(text)) return text;
    }
    return null;
  }
}

const check = TypeCompiler.Compile(SettingsSchema);

/** Defaults, then the file's keys, then `override`'s; throws one clear line when something is wrong. */
export function loadSettings(file: string | undefined, override?: Record<string, unknown>): Catalogue {
  let fromFile: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`CFS settings ${file}: ${(e as Error).message}`);
    }
    try {
      fromFile = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`CFS settings ${file}: not JSON (${(e as Error).message})`);
    }
    if (!fromFile || typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new Error(`CFS settings ${file}: expected a JSON object`);
  }
  const merged = { ...DEFAULT_SETTINGS, ...fromFile, ...override };
  if (!check.Check(merged)) {
    const e = check.Errors(merged).First();
    throw new Error(`CFS settings${file ? ` ${file}` : ''}: ${e ? `${e.path || '/'}: ${e.message}` : 'invalid'}`);
  }
  try {
    return new Catalogue(merged);
  } catch (e) {
    throw new Error(`CFS settings${file ? ` ${file}` : ''}: ${(e as Error).message}`);
  }
}
