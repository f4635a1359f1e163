/**
 * Addresses and prefixes: access rules (`ip` + `mask`), the subnets of the catalogue, mount target
 * addresses, and the client lists given to the NFS server.
 */
import { isIP } from 'node:net';

/** An address as bytes (4 for IPv4, 16 for IPv6). */
export type AddressBytes = Uint8Array;

/** Parses an IPv4 or IPv6 address (no prefix, no zone); null when it is neither. */
export function parseAddress(text: string): AddressBytes | null {
  const family = isIP(text);
  if (family === 4) return Uint8Array.from(text.split('.').map(Number));
  if (family !== 6) return null;
  let s = text;
  const out = new Uint8Array(16);
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) becomes two groups.
  const dot = s.lastIndexOf('.');
  let tail: number[] = [];
  if (dot >= 0) {
    const colon = s.lastIndexOf(':');
    const v4 = s.slice(colon + 1).split('.').map(Number);
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    s = s.slice(0, colon + 1) + '0:0';
  }
  const [head, rest] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const hs = head ? head.split(':') : [];
  const rs = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups: number[] = [...hs.map((g) => parseInt(g, 16))];
  if (rest !== undefined) for (let i = hs.length + rs.length; i < 8; i++) groups.push(0);
  groups.push(...rs.map((g) => parseInt(g, 16)));
  if (tail.length) groups.splice(6, 2, ...tail);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = (groups[i]! >> 8) & 0xff;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return out;
}

/** `::ffff:1.2.3.4` → the IPv4 bytes; any other address as it is. */
export function unmapV4(a: AddressBytes): AddressBytes {
  if (a.length === 16 && a.slice(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff) return a.slice(12);
  return a;
}

export function formatAddress(a: AddressBytes): string {
  if (a.length === 4) return Array.from(a).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((a[i]! << 8) | a[i + 1]!).toString(16));
  return groups.join(':');
}

/** The address with the bits past `prefix` cleared. */
export function networkOf(a: AddressBytes, prefix: number): AddressBytes {
  const out = Uint8Array.from(a);
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

/** Does `prefix` bits of `net` cover `a` (same family)? */
export function contains(net: AddressBytes, prefix: number, a: AddressBytes): boolean {
  if (net.length !== a.length) return false;
  const n = networkOf(net, prefix);
  const m = networkOf(a, prefix);
  return n.every((b, i) => b === m[i]);
}

/** `10.0.0.0/16` → address and prefix; null when it is not one. */
export function parseCidr(text: string): { address: AddressBytes; prefix: number } | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = parseAddress(text.slice(0, slash));
  const p = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(p)) return null;
  const prefix = Number(p);
  if (prefix > address.length * 8) return null;
  return { address, prefix };
}

/** The address `n` places after `a` (IPv4), or null past the end of the space. */
export function addV4(a: AddressBytes, n: number): AddressBytes | null {
  const v = ((a[0]! << 24) >>> 0) + (a[1]! << 16) + (a[2]! << 8) + a[3]! + n;
  if (v > 0xffffffff) return null;
  return Uint8Array.from([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

/**
 * An access rule as client entries of nfs-ganesha: the network address (host bits cleared) and
 * its prefix. Ganesha refuses a `/0` prefix, so "every address" is written as two halves.
 */
export function ganeshaClients(ip: string, mask: number): string[] {
  const a = parseAddress(ip);
  if (!a) throw new Error(`not an address: ${ip}`);
  if (mask === 0) return a.length === 4 ? ['0.0.0.0/1', '128.0.0.0/1'] : ['::/1', '8000::/1'];
  return [`${formatAddress(networkOf(a, mask))}/${mask}`];
}
