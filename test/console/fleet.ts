import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Testing from '../../libs/testing/src';

// The built harness (`npm run test:console` builds first), as jest's global setup loads it:
// Playwright's TypeScript loader does not apply the decorators the libraries need.
const testing = createRequire(__filename)(join(__dirname, '../../dist/libs/testing/src')) as typeof Testing;

export const SINK_SECRET = 'console-fleet-sink-secret-0123456789abcd';
const DIRECTORY_KEY = 'console-fleet-directory-key';
/** The sourcing job the Leads tests run: bakeries from the fake directory, tier A → contact, B held. */
export const LEADS_JOB = 'Bakeries from the directory';
export const LEADS_LIMIT = 30;
/** A job whose directory never answers: its run stays in flight for pause, resume and cancel. */
export const STALLED_JOB = 'Stalled directory search';

/** What the tests read from the environment the fleet leaves them (workers inherit it). */
export const FLEET_ENV = 'HERALD_CONSOLE_FLEET';
export interface Fleet {
  url: string;
  adminKey: string;
  /** The tenant the console is exercised as (Europe/Paris), with a sender account and contacts. */
  tenant: { key: string; senderId: string; limitedSenderId: string };
  /** Another tenant, whose run id the first tenant must not see. */
  other: { key: string; runId: string };
  /** A tenant whose one campaign ran and drew engagement (the analytics tests read its numbers). */
  metrics: MetricsSeed;
  /** The fleet's database, for a state no API call makes (the beat's verdict after an hour of failures). */
  databaseUrl: string;
}

/** What the metrics tenant's campaign produced, as the funnel should count it. */
export interface MetricsSeed {
  key: string;
  campaign: string;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  replied: number;
  converted: number;
  revenue: string;
}

export function fleet(): Fleet {
  const raw = process.env[FLEET_ENV];
  if (!raw) throw new Error('the console fleet is not running (test/console/fleet.ts is the global setup)');
  return JSON.parse(raw) as Fleet;
}

/**
 * Starts Postgres and Redis (test infrastructure), a webhook sink standing in for the provider,
 * and real api, worker and beat processes; seeds two tenants through the public API. Returns
 * the teardown.
 */
export default async function startFleet(): Promise<() => Promise<void>> {
  const started = performance.now();
  // Each part's stop, last started first: a failed start leaves nothing running behind it.
  const stops: (() => Promise<unknown>)[] = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const infra = await testing.startInfrastructure();
    stops.push(() => infra.stop());
    await testing.prepareTemplate(infra.postgresUrl);
    process.env[testing.INFRA_ENV.postgres] = infra.postgresUrl;
    process.env[testing.INFRA_ENV.redis] = infra.redisUrl;
    process.env[testing.INFRA_ENV.mode] = infra.mode;
    const db = await testing.createTestDatabase();
    stops.push(() => db.drop());
    const sink = await testing.WebhookSink.start(SINK_SECRET);
    stops.push(() => sink.stop());
    // The lead pipeline's outside world (as `npm run dev` starts it): the directory, the
    // businesses' websites and the enrichment API, all on loopback.
    const sites = await testing.FakeSites.start();
    stops.push(() => sites.stop());
    const enrichment = await testing.FakeEnrichment.start();
    stops.push(() => enrichment.stop());
    const directory = await testing.FakeDirectory.start({
      seed: 11,
      count: 2000,
      apiKey: DIRECTORY_KEY,
      sitesPort: sites.httpPort,
    });
    stops.push(() => directory.stop());
    const env = testing.testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testing.testRedisUrl(),
      QUEUE_PREFIX: testing.testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      // The businesses' websites are <slug>.sites.test: resolved to the fake sites server.
      OUTBOUND_HOST_OVERRIDES: `*.${testing.SITES_SUFFIX}=127.0.0.1`,
      SOURCING_ASSESSMENT_TIMEOUT_MS: '3000',
      API_RATE_LIMIT_PER_SECOND: '0',
      CONSOLE_DIST_DIR: join(__dirname, '../../dist/apps/console'),
    });
    const roles = ['api', 'worker', 'beat'] as const;
    const processes: Testing.HeraldProcess[] = [];
    for (const role of roles) {
      const proc = await testing.HeraldProcess.start(role, env);
      processes.push(proc);
      stops.push(() => proc.stop());
    }
    const api = processes[0]!;
    const seeded = await seed(api.publicUrl, sink.url, {
      directory: directory.url(),
      stalled: directory.url('slow'),
      enrichment,
    });
    process.env[FLEET_ENV] = JSON.stringify({ ...seeded, databaseUrl: db.url } satisfies Fleet);
    process.stderr.write(
      `console fleet ready in ${Math.round(performance.now() - started)} ms at ${api.publicUrl}\n`,
    );
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}

async function seed(url: string, sinkUrl: string, leads: Leads): Promise<Omit<Fleet, 'databaseUrl'>> {
  const call: Call = async <T>(method: string, path: string, key: string, body?: unknown): Promise<T> => {
    const answer = await testing.callApi<T>(url, method, path, key, body);
    if (answer.status >= 300)
      throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  const admin = testing.TEST_ADMIN_KEY;
  const tenant = await call<{ api_key: { key: string } }>('POST', '/v1/tenants', admin, {
    name: 'Acme Outreach',
    time_zone: 'Europe/Paris',
  });
  const key = tenant.api_key.key;
  const sender = (name: string, quotas: Record<string, number>) =>
    call<{ id: string }>('POST', '/v1/sender-accounts', key, {
      name,
      channel: 'webhook',
      config: { url: sinkUrl, secret: SINK_SECRET },
      quotas,
      time_zone: 'Europe/Paris',
    });
  const [main, limited] = [
    await sender('Newsletter sender', { daily: 1000 }),
    await sender('Small quota', { hourly: 2 }),
  ];
  await call('POST', '/v1/contacts/import', key, [
    ...Array.from({ length: 12 }, (_, i) => ({
      email: `reader${i}@example.test`,
      first_name: ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald'][i % 6],
      last_name: `Reader${i}`,
      tags: ['newsletter'],
    })),
    ...Array.from({ length: 5 }, (_, i) => ({
      email: `vip${i}@example.test`,
      first_name: `Vip${i}`,
      tags: ['vip'],
    })),
  ]);

  await seedLeads(call, key, leads);

  const other = await call<{ api_key: { key: string } }>('POST', '/v1/tenants', admin, {
    name: 'Other Co',
    time_zone: 'America/New_York',
  });
  const otherKey = other.api_key.key;
  const otherSender = await call<{ id: string }>('POST', '/v1/sender-accounts', otherKey, {
    name: 'Other sender',
    channel: 'webhook',
    config: { url: sinkUrl, secret: SINK_SECRET },
    quotas: { daily: 100 },
    time_zone: 'UTC',
  });
  await call('POST', '/v1/contacts/import', otherKey, [{ email: 'someone@other.test' }]);
  const campaign = await call<{ id: string }>('POST', '/v1/campaigns', otherKey, {
    name: 'Their campaign',
    kind: 'broadcast',
    sender_account_id: otherSender.id,
    steps: [{ subject: 'Hi', body: 'Hello' }],
  });
  const run = await call<{ id: string }>('POST', `/v1/campaigns/${campaign.id}/runs`, otherKey, {
    dry_run: true,
  });
  return {
    url,
    adminKey: admin,
    tenant: { key, senderId: main.id, limitedSenderId: limited.id },
    other: { key: otherKey, runId: run.id },
    metrics: await seedMetrics(call, sinkUrl),
  };
}

interface Leads {
  directory: string;
  stalled: string;
  enrichment: Testing.FakeEnrichment;
}

type Call = <T>(method: string, path: string, key: string, body?: unknown) => Promise<T>;

/**
 * The tenant's lead finding, as scripts/dev/demo-sourcing.ts seeds the demo's: a directory
 * account, an enrichment account, a scoring model and a job (not started: a test starts it).
 */
async function seedLeads(call: Call, key: string, leads: Leads): Promise<void> {
  const account = await call<{ id: string }>('POST', '/v1/source-accounts', key, {
    name: 'Bakery directory',
    kind: 'http-directory',
    config: { base_url: leads.directory, api_key: DIRECTORY_KEY, page_size: 10 },
    quotas: { hourly: 120 },
  });
  await call('POST', '/v1/source-accounts', key, {
    name: 'Company lookup',
    kind: 'http-enrichment',
    config: {
      base_url: leads.enrichment.url,
      api_key: leads.enrichment.apiKey,
      lookup: 'domain',
      mapping: { employees: 'company.employees' },
    },
    quotas: { daily: 1000 },
  });
  const model = await call<{ id: string }>('POST', '/v1/scoring-models', key, {
    name: 'Bakeries',
    rules: [
      { name: 'site answers', field: 'assessment.status', op: 'range', min: 200, max: 299, points: 40 },
      { name: 'HTTPS', field: 'assessment.https', op: 'equals', value: true, points: 20 },
      { name: 'size known', field: 'enrichment.employees', op: 'exists', points: 20 },
    ],
    tiers: { A: 80, B: 40, C: 20 },
  });
  await call('POST', '/v1/sourcing-jobs', key, {
    name: LEADS_JOB,
    source_account_id: account.id,
    criteria: { category: 'bakery' },
    limit: LEADS_LIMIT,
    scoring_model_id: model.id,
    handoff: {
      A: { action: 'contact' },
      B: { action: 'hold' },
      C: { action: 'reject' },
      D: { action: 'reject' },
    },
  });
  // An account of its own: its timeouts open its breaker, never the one above.
  const stalled = await call<{ id: string }>('POST', '/v1/source-accounts', key, {
    name: 'Stalled directory',
    kind: 'http-directory',
    config: { base_url: leads.stalled, api_key: DIRECTORY_KEY, page_size: 10 },
  });
  await call('POST', '/v1/sourcing-jobs', key, {
    name: STALLED_JOB,
    source_account_id: stalled.id,
    criteria: { category: 'bakery' },
    limit: 10,
    scoring_model_id: model.id,
    handoff: { A: { action: 'contact' } },
  });
}

/**
 * A tenant of its own (its funnel counts nothing another test does): a broadcast to four
 * contacts runs to the end, then engagement arrives as a provider and the tenant's shop report it.
 */
async function seedMetrics(call: Call, sinkUrl: string): Promise<MetricsSeed> {
  const tenant = await call<{ api_key: { key: string } }>('POST', '/v1/tenants', testing.TEST_ADMIN_KEY, {
    name: 'Metrics Co',
    time_zone: 'Europe/Paris',
  });
  const key = tenant.api_key.key;
  const sender = await call<{ id: string }>('POST', '/v1/sender-accounts', key, {
    name: 'Metrics sender',
    channel: 'webhook',
    config: { url: sinkUrl, secret: SINK_SECRET },
    quotas: { daily: 100 },
    time_zone: 'Europe/Paris',
  });
  const emails = ['m0@metrics.test', 'm1@metrics.test', 'm2@metrics.test', 'm3@metrics.test'];
  await call(
    'POST',
    '/v1/contacts/import',
    key,
    emails.map((email) => ({ email, tags: ['metrics'] })),
  );
  const campaign = await call<{ id: string }>('POST', '/v1/campaigns', key, {
    name: 'Spring offer',
    kind: 'broadcast',
    sender_account_id: sender.id,
    audience: { tags: ['metrics'] },
    steps: [
      {
        subject: 'Spring',
        body: 'Our spring offer.',
        variants: [
          { name: 'short', weight: 1, subject: 'Spring' },
          { name: 'long', weight: 1, subject: 'Our spring offer is here' },
        ],
        // Too few sends to call a winner: the page shows why not.
        experiment: { metric: 'reply', min_sample: 100, confidence: 0.95, auto_promote: false },
      },
    ],
  });
  const run = await call<{ id: string }>('POST', `/v1/campaigns/${campaign.id}/runs`, key, {});
  await testing.eventually(
    async () => (await call<{ status: string }>('GET', `/v1/runs/${run.id}`, key)).status === 'completed',
    { what: 'the metrics campaign run completed', timeoutMs: 60_000, intervalMs: 200 },
  );
  const deliveries = await call<{ data: { id: string; contact_id: string }[] }>(
    'GET',
    `/v1/runs/${run.id}/deliveries?status=sent`,
    key,
  );
  const [d0, d1, d2] = deliveries.data;
  if (deliveries.data.length !== emails.length || !d0 || !d1 || !d2)
    throw new Error(`the metrics run sent ${deliveries.data.length} of ${emails.length}`);
  const at = new Date().toISOString();
  const event = (kind: string, delivery: { id: string }) => ({
    event_id: `${kind}-${delivery.id}`,
    kind,
    delivery_id: delivery.id,
    occurred_at: at,
  });
  await call('POST', '/v1/engagement-events', key, {
    events: [
      event('delivered', d0),
      event('delivered', d1),
      event('delivered', d2),
      event('opened', d0),
      event('opened', d1),
      event('clicked', d0),
    ],
  });
  await call('POST', '/v1/events', key, {
    type: 'reply',
    contact_id: d0.contact_id,
    event_id: 'metrics-reply-1',
  });
  await call('POST', '/v1/events', key, {
    type: 'converted',
    contact_id: d0.contact_id,
    event_id: 'metrics-order-1',
    value: '49.90',
    currency: 'EUR',
  });
  return {
    key,
    campaign: 'Spring offer',
    sent: 4,
    delivered: 3,
    opened: 2,
    clicked: 1,
    replied: 1,
    converted: 1,
    revenue: '€49.90',
  };
}
