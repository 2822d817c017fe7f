import fc from 'fast-check';
import { isNonPublicAddress } from './address-guard';
import { DryRunChannel } from './dry-run.channel';
import { ManualClock } from '@herald/time';

describe('isNonPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    '0.0.0.0',
    '192.0.2.1',
    '198.18.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '0:0:0:0:0:0:0:1',
    'fd12:3456::1',
    'fc00::1',
    'fe80::1',
    'fe80::1%eth0',
    'FE80::1%25',
    'fec0::1',
    'ff02::1',
    '100::1',
    '2001:db8::1',
    '2001:DB8:0:0::1',
    '3fff:123::1',
    '2001:2::1',
    '4000::1',
    '::ffff:10.0.0.1',
    '::ffff:127.0.0.1',
    '::FFFF:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:7f00:0001',
    '::ffff:127.0.0.1%eth0',
    '::ffff:0:127.0.0.1',
    '::127.0.0.1',
    '::7f00:1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::169.254.169.254',
    '64:ff9b:1::10.0.0.1',
    '64:ff9b:1:1::808:808', // local-use NAT64 not in the /96 layout: cannot be read, refused
    '2002:a00:1::1',
    '2002:7f00:1::',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo, client 192.0.2.45
    '2001:0:a00:1::f7f7:f7f7', // Teredo, server 10.0.0.1
  ])('blocks %s', (address) => expect(isNonPublicAddress(address)).toBe(true));

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '2a00:1450:4001:82b::200e',
    '::ffff:8.8.8.8',
    '::FFFF:808:808',
    '64:ff9b::8.8.8.8',
    '64:ff9b:1::8.8.8.8',
    '2002:808:808::1',
    '2001:0:4136:e378:8000:63bf:f7f7:f7f7', // Teredo, server 65.54.227.120, client 8.8.8.8
  ])('allows %s', (address) => expect(isNonPublicAddress(address)).toBe(false));

  it.each(['example.com', '', '127.1', '0x7f.0.0.1', '2130706433', '::ffff:1.2.3.04', '1::2::3'])(
    'treats %j, which is not an IP address, as not public',
    (address) => expect(isNonPublicAddress(address)).toBe(true),
  );
});

describe('isNonPublicAddress, properties', () => {
  const group = fc.integer({ min: 0, max: 0xffff });
  /** An IPv4 address as a number, half of them drawn from the non-public blocks. */
  const v4 = fc.oneof(
    fc.integer({ min: 0, max: 0xffffffff }),
    fc
      .tuple(
        fc.constantFrom(
          [0x00000000, 8],
          [0x0a000000, 8],
          [0x64400000, 10],
          [0x7f000000, 8],
          [0xa9fe0000, 16],
          [0xac100000, 12],
          [0xc0a80000, 16],
          [0xe0000000, 4],
          [0xf0000000, 4],
        ),
        fc.integer({ min: 0, max: 0xffffffff }),
      )
      .map(([[base, bits], random]) => (base | (random >>> bits)) >>> 0),
  );
  const dotted = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
  const hi = (n: number) => (n >>> 16) & 0xffff;
  const lo = (n: number) => n & 0xffff;

  /** Any of the valid ways to write eight groups: padding, case, which zero run `::` takes, dotted tail, zone id. */
  const spelling = fc.record({
    pad: fc.boolean(),
    upper: fc.boolean(),
    compressAt: fc.nat(),
    dottedTail: fc.boolean(),
    zone: fc.constantFrom('', '%eth0', '%1', '%en0'),
  });
  type Spelling = typeof spelling extends fc.Arbitrary<infer S> ? S : never;
  function spell(groups: readonly number[], s: Spelling): string {
    const tailAsDotted = s.dottedTail;
    const head = groups.slice(0, tailAsDotted ? 6 : 8);
    const hex = head.map((g) => (s.pad ? g.toString(16).padStart(4, '0') : g.toString(16)));
    const runs: [number, number][] = [];
    for (let i = 0; i < head.length; i++) {
      if (head[i] !== 0) continue;
      let j = i;
      while (j < head.length && head[j] === 0) j++;
      runs.push([i, j]);
      i = j;
    }
    const run = runs.length > 0 && s.compressAt % 3 !== 0 ? runs[s.compressAt % runs.length] : undefined;
    let text = run ? `${hex.slice(0, run[0]).join(':')}::${hex.slice(run[1]).join(':')}` : hex.join(':');
    if (tailAsDotted) {
      const tail = dotted((((groups[6] ?? 0) << 16) | (groups[7] ?? 0)) >>> 0);
      text = text.endsWith('::') ? `${text}${tail}` : `${text}:${tail}`;
    }
    return `${s.upper ? text.toUpperCase() : text}${s.zone}`;
  }

  const EMBEDDINGS: [string, (v: number, rest: number[]) => number[]][] = [
    ['IPv4-mapped ::ffff:0:0/96', (v) => [0, 0, 0, 0, 0, 0xffff, hi(v), lo(v)]],
    ['IPv4-translated ::ffff:0:0:0/96', (v) => [0, 0, 0, 0, 0xffff, 0, hi(v), lo(v)]],
    ['IPv4-compatible ::/96', (v) => [0, 0, 0, 0, 0, 0, hi(v), lo(v)]],
    ['NAT64 64:ff9b::/96', (v) => [0x64, 0xff9b, 0, 0, 0, 0, hi(v), lo(v)]],
    ['local-use NAT64 64:ff9b:1::/48', (v) => [0x64, 0xff9b, 1, 0, 0, 0, hi(v), lo(v)]],
    ['6to4 2002::/16', (v, r) => [0x2002, hi(v), lo(v), ...r.slice(0, 5)]],
    // Teredo with a public server (65.54.227.120): the client's IPv4, inverted, decides.
    [
      'Teredo 2001::/32 (client)',
      (v, r) => [0x2001, 0, 0x4136, 0xe378, r[0] ?? 0, r[1] ?? 0, hi(~v >>> 0), lo(~v >>> 0)],
    ],
    // Teredo with a public client (8.8.8.8): the server's IPv4 decides.
    ['Teredo 2001::/32 (server)', (v, r) => [0x2001, 0, hi(v), lo(v), r[0] ?? 0, r[1] ?? 0, 0xf7f7, 0xf7f7]],
  ];

  it.each(EMBEDDINGS)('judges %s by the IPv4 address it embeds, however spelled', (_form, embed) => {
    fc.assert(
      fc.property(v4, fc.array(group, { minLength: 5, maxLength: 5 }), spelling, (v, rest, s) => {
        const address = spell(embed(v, rest), s);
        expect({ address, nonPublic: isNonPublicAddress(address) }).toEqual({
          address,
          nonPublic: isNonPublicAddress(dotted(v)),
        });
      }),
      { numRuns: 400 },
    );
  });

  it('judges Teredo non-public when either embedded IPv4 address is', () => {
    fc.assert(
      fc.property(v4, v4, group, group, spelling, (server, client, flags, port, s) => {
        const address = spell(
          [0x2001, 0, hi(server), lo(server), flags, port, hi(~client >>> 0), lo(~client >>> 0)],
          s,
        );
        expect(isNonPublicAddress(address)).toBe(
          isNonPublicAddress(dotted(server)) || isNonPublicAddress(dotted(client)),
        );
      }),
      { numRuns: 400 },
    );
  });

  it('allows global unicast addresses outside the special ranges', () => {
    const globalUnicast = fc.oneof(
      fc.tuple(fc.integer({ min: 0x2003, max: 0x3ffe }), group),
      fc.tuple(fc.constant(0x2000), group),
      fc.tuple(fc.constant(0x2001), fc.integer({ min: 0x0200, max: 0xffff })).filter(([, g]) => g !== 0x0db8),
      fc.tuple(fc.constant(0x3fff), fc.integer({ min: 0x1000, max: 0xffff })),
    );
    fc.assert(
      fc.property(
        globalUnicast,
        fc.array(group, { minLength: 6, maxLength: 6 }),
        spelling,
        ([a, b], rest, s) => {
          const address = spell([a, b, ...rest], { ...s, dottedTail: false });
          expect({ address, nonPublic: isNonPublicAddress(address) }).toEqual({ address, nonPublic: false });
        },
      ),
      { numRuns: 500 },
    );
  });

  const NON_PUBLIC_V6: [string, number[], number][] = [
    ['unique local fc00::/7', [0xfc00], 7],
    ['link local fe80::/10', [0xfe80], 10],
    ['site local fec0::/10', [0xfec0], 10],
    ['multicast ff00::/8', [0xff00], 8],
    ['discard 100::/64', [0x0100, 0, 0, 0], 64],
    ['documentation 2001:db8::/32', [0x2001, 0x0db8], 32],
    ['documentation 3fff::/20', [0x3fff, 0], 20],
    ['benchmarking 2001:2::/48', [0x2001, 2, 0], 48],
    ['ORCHIDv2 2001:20::/28', [0x2001, 0x20], 28],
  ];

  it.each(NON_PUBLIC_V6)('refuses any address in %s', (_name, prefix, bits) => {
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), spelling, (random, s) => {
        const groups = random.map((g, i) => {
          const fixed = Math.min(16, Math.max(0, bits - i * 16));
          const mask = fixed === 0 ? 0 : (0xffff << (16 - fixed)) & 0xffff;
          return ((prefix[i] ?? 0) & mask) | (g & ~mask & 0xffff);
        });
        const address = spell(groups, { ...s, dottedTail: false });
        expect({ address, nonPublic: isNonPublicAddress(address) }).toEqual({ address, nonPublic: true });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses anything outside global unicast 2000::/3 that embeds no IPv4 address', () => {
    const first = fc.oneof(fc.integer({ min: 1, max: 0x1fff }), fc.integer({ min: 0x4000, max: 0xffff }));
    fc.assert(
      fc.property(first, fc.array(group, { minLength: 7, maxLength: 7 }), spelling, (a, rest, s) => {
        fc.pre(!(a === 0x64 && rest[0] === 0xff9b));
        const address = spell([a, ...rest], { ...s, dottedTail: false });
        expect({ address, nonPublic: isNonPublicAddress(address) }).toEqual({ address, nonPublic: true });
      }),
      { numRuns: 500 },
    );
  });
});

describe('DryRunChannel', () => {
  it('records without sending, keeps the last N, and answers a stable synthetic id', async () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    const channel = new DryRunChannel(clock, 3);
    const msg = {
      deliveryId: 'd',
      campaignId: 'c',
      runId: 'r',
      contact: { id: 'ct', email: 'a@example.com', firstName: null, lastName: null, externalRef: null },
      subject: null,
      body: 'hi',
    };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      ids.push(
        (await channel.send(msg, { idempotencyKey: `k${i}`, account: { id: 'a', config: {} } }))
          .providerMessageId,
      );
    }
    expect(ids[0]).toMatch(/^dry-run:[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(5);
    expect(
      (await channel.send(msg, { idempotencyKey: 'k4', account: { id: 'a', config: {} } })).providerMessageId,
    ).toBe(ids[4]);
    expect(channel.recent().map((r) => r.idempotencyKey)).toEqual(['k3', 'k4', 'k4']);
    channel.clear();
    expect(channel.recent()).toEqual([]);
  });
});
