import { parseHostOverrides } from '@herald/config';
import { OutboundAddressError, OutboundGuard, type ResolvedAddress } from './outbound-guard';

/** A resolver that answers from a script, one answer per call, and counts its calls. */
function scripted(...answers: (ResolvedAddress[] | Error)[]) {
  const calls: string[] = [];
  const resolve = (host: string) => {
    calls.push(host);
    const answer = answers[Math.min(calls.length, answers.length) - 1];
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer ?? []);
  };
  return { calls, resolve };
}
const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

async function refusal(promise: Promise<unknown>): Promise<OutboundAddressError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof OutboundAddressError)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

describe('OutboundGuard', () => {
  it('resolves a name once and answers its addresses when all are public', async () => {
    const { calls, resolve } = scripted([v4('93.184.215.14'), v6('2606:4700::1111')]);
    const guard = new OutboundGuard({ allowPrivateNetworks: false, resolve });
    await expect(guard.vet('mail.example.com')).resolves.toEqual([
      v4('93.184.215.14'),
      v6('2606:4700::1111'),
    ]);
    expect(calls).toEqual(['mail.example.com']);
  });

  it('refuses a name when any of its addresses is not public, naming the address', async () => {
    const { resolve } = scripted([v4('93.184.215.14'), v6('::ffff:169.254.169.254')]);
    const error = await refusal(
      new OutboundGuard({ allowPrivateNetworks: false, resolve }).vet('meta.example'),
    );
    expect(error.reason).toBe('address_refused');
    expect(error.message).toContain('meta.example (::ffff:169.254.169.254) is not a public address');
    expect(error.message).toContain('OUTBOUND_ALLOW_PRIVATE_NETWORKS');
  });

  it('judges IP literals without resolving them, with or without brackets', async () => {
    const { calls, resolve } = scripted();
    const guard = new OutboundGuard({ allowPrivateNetworks: false, resolve });
    await expect(guard.vet('8.8.8.8')).resolves.toEqual([v4('8.8.8.8')]);
    await expect(guard.vet('[2606:4700::1111]')).resolves.toEqual([v6('2606:4700::1111')]);
    expect((await refusal(guard.vet('[::1]'))).reason).toBe('address_refused');
    expect((await refusal(guard.vet('10.0.0.1'))).message).toMatch(/^10\.0\.0\.1 is not a public address/);
    expect(calls).toEqual([]);
  });

  it('lets private addresses through when private networks are allowed', async () => {
    const { resolve } = scripted([v4('127.0.0.1')]);
    const guard = new OutboundGuard({ allowPrivateNetworks: true, resolve });
    await expect(guard.vet('localhost.test')).resolves.toEqual([v4('127.0.0.1')]);
    await expect(guard.vet('[fe80::1%eth0]')).resolves.toEqual([v6('fe80::1%eth0')]);
  });

  it('reports a name that does not resolve, or resolves to nothing usable, as dns', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' });
    const { resolve } = scripted(notFound, [], [{ address: 'not-an-ip', family: 4 }]);
    const guard = new OutboundGuard({ allowPrivateNetworks: true, resolve });
    const first = await refusal(guard.vet('nowhere.invalid'));
    expect(first).toMatchObject({ reason: 'dns', message: 'nowhere.invalid did not resolve (ENOTFOUND)' });
    expect(await refusal(guard.vet('empty.invalid'))).toMatchObject({ reason: 'dns' });
    // A non-address answer would be resolved again by whoever connects: never passed on.
    expect(await refusal(guard.vet('junk.invalid'))).toMatchObject({ reason: 'dns' });
  });

  it('DNS rebinding: each vet resolves once, so a public answer then a private one passes then refuses', async () => {
    const { calls, resolve } = scripted([v4('93.184.215.14')], [v4('127.0.0.1')]);
    const guard = new OutboundGuard({ allowPrivateNetworks: false, resolve });
    await expect(guard.vet('rebind.example')).resolves.toEqual([v4('93.184.215.14')]);
    expect(calls).toHaveLength(1);
    expect((await refusal(guard.vet('rebind.example'))).reason).toBe('address_refused');
    expect(calls).toHaveLength(2);
  });

  it('uses the system resolver by default (localhost is refused)', async () => {
    const error = await refusal(new OutboundGuard({ allowPrivateNetworks: false }).vet('localhost'));
    expect(error.reason).toBe('address_refused');
  });
});

describe('OutboundGuard host overrides (OUTBOUND_HOST_OVERRIDES)', () => {
  const overrides = parseHostOverrides(
    '*.sites.test=127.0.0.1, api.enrich.test=[::1], exact.example=93.184.215.14',
  );

  it('answers a wildcard or exact name from the override without resolving it', async () => {
    const { calls, resolve } = scripted([v4('8.8.8.8')]);
    const guard = new OutboundGuard({ allowPrivateNetworks: true, resolve, hostOverrides: overrides });
    await expect(guard.vet('Shop-12.SITES.test')).resolves.toEqual([v4('127.0.0.1')]);
    await expect(guard.vet('a.b.sites.test')).resolves.toEqual([v4('127.0.0.1')]);
    await expect(guard.vet('api.enrich.test')).resolves.toEqual([v6('::1')]);
    expect(calls).toEqual([]);
    // The bare suffix and other names are not covered: they resolve as usual.
    await expect(guard.vet('sites.test')).resolves.toEqual([v4('8.8.8.8')]);
    expect(calls).toEqual(['sites.test']);
  });

  it('still refuses an overridden private address unless private networks are allowed', async () => {
    const { resolve } = scripted();
    const guard = new OutboundGuard({ allowPrivateNetworks: false, resolve, hostOverrides: overrides });
    const error = await refusal(guard.vet('shop.sites.test'));
    expect(error.reason).toBe('address_refused');
    expect(error.message).toContain('shop.sites.test (127.0.0.1) is not a public address');
    await expect(guard.vet('exact.example')).resolves.toEqual([v4('93.184.215.14')]);
  });

  it('rejects malformed entries naming them', () => {
    expect(() => parseHostOverrides('*.sites.test')).toThrow('"*.sites.test" is not name=ip');
    expect(() => parseHostOverrides('a.test=not-an-ip')).toThrow('"a.test=not-an-ip"');
    expect(() => parseHostOverrides('bad name=127.0.0.1')).toThrow('"bad name=127.0.0.1"');
    expect(parseHostOverrides(' , ')).toEqual([]);
  });
});
