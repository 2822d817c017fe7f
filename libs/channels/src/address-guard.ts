import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a hostname to every address it has (injectable so tests need no DNS). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/**
 * Whether an address is not on the public internet: loopback, private (10/8, 172.16/12,
 * 192.168/16), link-local (169.254/16, cloud metadata), CGNAT (100.64/10), this-network
 * (0/8), multicast and reserved ranges, and their IPv6 counterparts (::1, ::, fc00::/7,
 * fe80::/10, multicast, and IPv4 embedded in mapped, NAT64 and 6to4 addresses).
 */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return isNonPublicV4(parseV4(address));
  if (family === 6) return isNonPublicV6(address);
  return true;
}

function parseV4(address: string): number {
  return address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

const V4_BLOCKS: readonly [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const V4_RANGES = V4_BLOCKS.map(([base, bits]) => {
  const size = 2 ** (32 - bits);
  const start = parseV4(base);
  return [start, start + size] as const;
});

function isNonPublicV4(value: number): boolean {
  return V4_RANGES.some(([start, end]) => value >= start && value < end);
}

/** The eight 16-bit groups of an IPv6 address (handles `::` and a trailing dotted IPv4). */
function groupsV6(address: string): number[] {
  let text = address.toLowerCase().split('%')[0] ?? '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v4 = parseV4(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

function isNonPublicV6(address: string): boolean {
  const g = groupsV6(address);
  const at = (i: number) => g[i] ?? 0;
  const embeddedV4 = (hi: number, lo: number) => isNonPublicV4(at(hi) * 65536 + at(lo));
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(7) && (at(7) === 0 || at(7) === 1)) return true; // :: and ::1
  if (zeroUpTo(5) && at(5) === 0xffff) return embeddedV4(6, 7); // ::ffff:a.b.c.d
  if (zeroUpTo(6)) return true; // deprecated IPv4-compatible
  if (at(0) === 0x64 && at(1) === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embeddedV4(6, 7); // NAT64
  if (at(0) === 0x2002) return embeddedV4(1, 2); // 6to4
  if ((at(0) & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((at(0) & 0xffc0) === 0xfe80 || (at(0) & 0xffc0) === 0xfec0) return true; // link/site local
  if ((at(0) & 0xff00) === 0xff00) return true; // multicast
  if (at(0) === 0x2001 && at(1) === 0x0db8) return true; // documentation
  if (at(0) === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return true; // discard-only 100::/64
  return false;
}
