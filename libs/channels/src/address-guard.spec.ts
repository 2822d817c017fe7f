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
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fd12:3456::1',
    'fc00::1',
    'fe80::1',
    'ff02::1',
    '::ffff:10.0.0.1',
    '::ffff:7f00:1',
    '64:ff9b::a9fe:a9fe',
    '2002:a00:1::1',
  ])('blocks %s', (address) => expect(isNonPublicAddress(address)).toBe(true));

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => expect(isNonPublicAddress(address)).toBe(false),
  );

  it('treats anything that is not an IP as not public', () => {
    expect(isNonPublicAddress('example.com')).toBe(true);
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
