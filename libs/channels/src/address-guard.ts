import { BlockList, isIP } from 'node:net';

/**
 * IPv4 ranges that are not on the public internet: this network, private, CGNAT, loopback,
 * link-local (cloud metadata), IETF protocol assignments, documentation, 6to4 relay anycast,
 * benchmarking, multicast, reserved and broadcast.
 */
const V4_NON_PUBLIC: readonly [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

/**
 * IPv6 ranges refused outright once the IPv4-embedding forms are judged by their IPv4:
 * everything outside global unicast 2000::/3 (unspecified, loopback, discard 100::/64, unique
 * local, link and site local, multicast, SRv6, unassigned), and inside it the IETF protocol
 * assignments (2001::/23, but Teredo is judged by its IPv4s) and documentation.
 */
const V6_NON_PUBLIC: readonly [string, number][] = [
  ['2001::', 23],
  ['2001:db8::', 32],
  ['3fff::', 20],
];
const V6_GLOBAL_UNICAST: readonly [string, number] = ['2000::', 3];

const v4NonPublic = blockList(V4_NON_PUBLIC, 'ipv4');
const v6NonPublic = blockList(V6_NON_PUBLIC, 'ipv6');
const v6GlobalUnicast = blockList([V6_GLOBAL_UNICAST], 'ipv6');

function blockList(ranges: readonly (readonly [string, number])[], type: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of ranges) list.addSubnet(network, prefix, type);
  return list;
}

/**
 * Whether an address is not on the public internet, so an outbound connection must not go
 * there unless private networks are allowed. IPv6 addresses that carry an IPv4 address —
 * IPv4-mapped, -translated and -compatible, NAT64 (well-known and local-use), 6to4 and Teredo —
 * are judged by that IPv4 address, whatever the spelling. Anything that is not an IP address
 * is not public.
 */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return v4NonPublic.check(address, 'ipv4');
  if (family === 6) return isNonPublicV6(address);
  return true;
}

function isNonPublicV6(address: string): boolean {
  // A zone id only picks the interface of a link-local address; the address decides.
  const g = groupsV6(address.replace(/%.*$/, ''));
  if (!g) return true;
  const v4 = (hi: number, lo: number, mask = 0) =>
    v4NonPublic.check(dottedQuad((((g[hi] ?? 0) << 16) | (g[lo] ?? 0)) ^ mask), 'ipv4');
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && g[5] === 0xffff) return v4(6, 7); // IPv4-mapped ::ffff:0:0/96
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(6, 7); // IPv4-translated ::ffff:0:0:0/96
  if (zero(0, 6)) return v4(6, 7); // IPv4-compatible ::/96, which holds :: and ::1 (0.0.0.0/8)
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return v4(6, 7); // NAT64 64:ff9b::/96
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) {
    // Local-use NAT64 (RFC 8215) may place the IPv4 anywhere under the /48; only the /96
    // layout DNS64 uses can be read with certainty, any other is refused.
    return zero(3, 6) ? v4(6, 7) : true;
  }
  if (g[0] === 0x2002) return v4(1, 2); // 6to4 2002::/16
  if (g[0] === 0x2001 && g[1] === 0) {
    // Teredo 2001::/32: the server's IPv4, then the client's IPv4 with every bit inverted.
    return v4(2, 3) || v4(6, 7, 0xffffffff);
  }
  const canonical = g.map((x) => x.toString(16)).join(':');
  return !v6GlobalUnicast.check(canonical, 'ipv6') || v6NonPublic.check(canonical, 'ipv6');
}

/**
 * The eight 16-bit groups of an IPv6 address, or undefined if it is not one. Node's WHATWG URL
 * parser validates and canonicalises (lower case, no leading zeros, dotted IPv4 as hex, one
 * `::`), so only the `::` is left to expand. Not ipaddr.js: the 1.9 copy installed (through
 * express) cannot parse `::127.0.0.1` or `64:ff9b:1::10.0.0.1`.
 */
function groupsV6(address: string): number[] | undefined {
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head = '', tail] = canonical.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((x) => parseInt(x, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function dottedQuad(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}
