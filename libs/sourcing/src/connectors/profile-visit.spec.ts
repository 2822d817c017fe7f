import { OutboundGuard } from '@herald/channels';
import { FakeProfileSite, generateBusinesses, generatePeople } from '@herald/testing';
import { profileVisitConfig, type UnsealedSourceAccount } from '../accounts/source-account';
import { ProfileVisitConnector } from './profile-visit.connector';

/** Profile visits against the fake profile site on loopback: structured data read, hostile pages contained. */
describe('profile-visit connector', () => {
  const businesses = generateBusinesses({ seed: 2, count: 20, sitesPort: 8080 });
  const people = generatePeople({ seed: 2, count: 10, businesses: 20 });
  let site: FakeProfileSite;
  const connector = new ProfileVisitConnector();
  const guard = new OutboundGuard({ allowPrivateNetworks: true });
  const account = {
    tenantId: 't',
    id: 'a',
    name: 'visits',
    kind: 'profile-visit',
    settings: {},
    quotas: { hourly: null, daily: null, weekly: null },
    timeZone: 'UTC',
    status: 'active',
    createdAt: new Date(),
    updatedAt: new Date(),
    config: profileVisitConfig.parse({ timeout_ms: 500, max_bytes: 50_000, max_redirects: 2 }),
  } as UnsealedSourceAccount<'profile-visit'>;

  beforeAll(async () => {
    site = await FakeProfileSite.start({ businesses, people });
  });
  afterAll(async () => {
    await site.stop();
  });

  const visit = (urls: string[], cursor: string | null = null) =>
    connector.step({ account, criteria: { profile_urls: urls }, cursor, guard });

  it('reads a person’s JSON-LD, OpenGraph and rel=me, one visit per step', async () => {
    const person = people[0]!;
    const business = businesses[person.business]!;
    const urls = [site.url(`/people/${person.id}`), site.url(`/businesses/${business.id}`)];
    const first = await visit(urls);
    expect(first.next).toBe('1');
    expect(first.candidates).toHaveLength(1);
    expect(first.candidates[0]).toMatchObject({
      name: person.name,
      email: person.email,
      website: business.website,
      category: person.jobTitle,
      profileUrl: urls[0],
    });
    expect(first.candidates[0]!.facts).toMatchObject({ profile: { rel_me: [business.website] } });
    const second = await visit(urls, first.next);
    expect(second.next).toBeNull();
    expect(second.candidates[0]).toMatchObject({
      name: business.name,
      email: business.email,
      phone: business.phone,
      website: business.website,
      address: { city: business.city, postal_code: business.address.postal_code },
    });
    expect(site.visits.get(`/people/${person.id}`)).toBe(1);
  });

  it.each([
    ['/hostile/loop', 'more than 2 redirects'],
    ['/hostile/huge', 'answered more than 50000 bytes'],
    ['/hostile/missing', 'answered 404'],
  ])('keeps a permanently failing visit (%s) as a rejected candidate with the reason', async (path, why) => {
    const batch = await visit([site.url(path)]);
    expect(batch.candidates).toHaveLength(1);
    expect(batch.candidates[0]!.failure).toContain(why);
    expect(batch.next).toBeNull();
  });

  it('fails the step on a page that never answers (transient: retried from the same cursor)', async () => {
    await expect(visit([site.url('/hostile/slow')])).rejects.toMatchObject({
      failure: 'timeout',
      transient: true,
    });
  });

  it('refuses a private address unless allowed, as a permanent failure of that visit', async () => {
    const batch = await connector.step({
      account,
      criteria: { profile_urls: [site.url(`/people/${people[1]!.id}`)] },
      cursor: null,
      guard: new OutboundGuard({ allowPrivateNetworks: false }),
    });
    expect(batch.candidates[0]!.failure).toContain('not a public address');
  });
});
