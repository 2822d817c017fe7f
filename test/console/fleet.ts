import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Testing from '../../libs/testing/src';

// The built harness (`npm run test:console` builds first), as jest's global setup loads it:
// Playwright's TypeScript loader does not apply the decorators the libraries need.
const testing = createRequire(__filename)(join(__dirname, '../../dist/libs/testing/src')) as typeof Testing;

export const SINK_SECRET = 'console-fleet-sink-secret-0123456789abcd';

/** What the tests read from the environment the fleet leaves them (workers inherit it). */
export const FLEET_ENV = 'HERALD_CONSOLE_FLEET';
export interface Fleet {
  url: string;
  adminKey: string;
  /** The tenant the console is exercised as (Europe/Paris), with a sender account and contacts. */
  tenant: { key: string; senderId: string; limitedSenderId: string };
  /** Another tenant, whose run id the first tenant must not see. */
  other: { key: string; runId: string };
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
    const env = testing.testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testing.testRedisUrl(),
      QUEUE_PREFIX: testing.testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
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
    process.env[FLEET_ENV] = JSON.stringify(await seed(api.publicUrl, sink.url));
    process.stderr.write(
      `console fleet ready in ${Math.round(performance.now() - started)} ms at ${api.publicUrl}\n`,
    );
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}

async function seed(url: string, sinkUrl: string): Promise<Fleet> {
  const call = async <T>(method: string, path: string, key: string, body?: unknown): Promise<T> => {
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
  };
}
