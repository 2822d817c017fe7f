import { REDIS } from '@herald/queues';
import { QuotaService } from '@herald/rate-limit';
import { HeraldMetrics } from '@herald/telemetry';
import { eventually, testRedisUrl, WebhookSink } from '@herald/testing';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { TestApi } from '../../../test/support/api-app';
import {
  DeliveryPipeline,
  DeliveryReconciler,
  LedgerRepository,
  quotaAccountOf,
  SenderAccountsRepository,
} from '../src';
import { drive, seedRun } from './pipeline-harness';

jest.setTimeout(120_000);

const SECRET = 'faults-sink-secret-0123456789abcdef0123';
const N = 12;

type Inject = (call: () => Promise<unknown>) => Promise<unknown>;

/**
 * Every step of the pipeline that talks to Postgres or Redis, refused once by the real thing:
 * Postgres terminates the step's statement (as a restart does: 57P01), or Redis drops the
 * process's connection. Whatever the step, nothing fails, nothing is lost and nothing is sent
 * twice: the webhook sink sees each key once and never a repeat, every delivery is `sent` on
 * its first attempt, and the quota counts each send once.
 */
describe('delivery pipeline when Postgres or Redis refuses a step', () => {
  let api: TestApi;
  let sink: WebhookSink;
  let pipeline: DeliveryPipeline;
  let appRedis: Redis;
  let adminRedis: Redis;
  let admin: Client;
  let locker: Client;
  let lockerPid: number;
  /** The real errors the steps met. */
  const seen: unknown[] = [];

  beforeAll(async () => {
    sink = await WebhookSink.start(SECRET);
    api = await TestApi.start({ OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true' });
    pipeline = api.app.get(DeliveryPipeline);
    appRedis = api.app.get<Redis>(REDIS);
    adminRedis = new Redis(testRedisUrl(), { lazyConnect: true });
    await adminRedis.connect();
    admin = new Client({ connectionString: api.database.url });
    locker = new Client({ connectionString: api.database.url });
    await Promise.all([admin.connect(), locker.connect()]);
    lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
  });
  afterAll(async () => {
    await Promise.all([admin?.end(), locker?.end()]);
    adminRedis?.disconnect();
    await api?.close();
    await sink?.stop();
  });

  /**
   * Postgres refuses the step's statement: `table` is locked so the statement waits, then every
   * backend waiting on the lock is terminated (57P01, what a restart does to its sessions).
   */
  const postgres =
    (table: string): Inject =>
    async (call) => {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      const pending = call();
      pending.catch((error: unknown) => seen.push(error));
      try {
        const waiting = await eventually(
          async () => {
            const { rows } = await admin.query<{ pid: number }>(
              `SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1`,
              [lockerPid],
            );
            return rows.length > 0 ? rows.map((r) => r.pid) : undefined;
          },
          { what: `a statement waiting on ${table}` },
        );
        await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [waiting]);
      } finally {
        await locker.query('ROLLBACK');
      }
      return pending;
    };

  /** Redis drops the process's connection just as the step starts (it reconnects on its own). */
  const redis: Inject = async (call) => {
    const id = await appRedis.client('ID');
    const closed = new Promise((resolve) => appRedis.once('close', resolve));
    await adminRedis.client('KILL', 'ID', String(id));
    await closed;
    const pending = call();
    pending.catch((error: unknown) => seen.push(error));
    return pending;
  };

  /** Replaces `object[method]` so its first call goes through `inject`; returns whether it fired. */
  function once<T extends object>(object: T, method: keyof T & string, inject: Inject): () => boolean {
    const target = object as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = target[method]!;
    let fired = false;
    target[method] = function (this: unknown, ...args: unknown[]) {
      if (fired) return original.apply(this, args);
      fired = true;
      target[method] = original;
      return inject(() => original.apply(this, args));
    };
    return () => fired;
  }

  const ledger = () => api.app.get(LedgerRepository);
  const accounts = () => api.app.get(SenderAccountsRepository);
  const quota = () => api.app.get(QuotaService);

  const stageRetries = async (stage: string) =>
    (await api.app.get(HeraldMetrics).deliveryStageRetries.get()).values.find((v) => v.labels.stage === stage)
      ?.value ?? 0;

  /** A run of N through the sink with `arm` installed; checks the promises held. */
  async function runThrough(arm: () => () => boolean): Promise<{ handedBack: number; delays: string[] }> {
    seen.length = 0;
    const run = await seedRun(api, {
      contacts: N,
      webhook: { url: sink.url, secret: SECRET },
      quotas: { daily: 1000 },
    });
    const fired = arm();
    const { outcomes, handedBack, delays } = await drive(pipeline, run.tenantId, run.deliveryIds);
    expect(fired()).toBe(true);
    expect([...outcomes.values()].map((o) => o.kind)).toEqual(Array(N).fill('sent'));
    // 0 lost, 0 twice: each key reached the provider once, and was never asked again.
    for (const key of run.keys) expect(sink.acceptedAnswers.get(key)).toBe(1);
    const ledgerRows = await api.query<{ status: string; attempts: number; n: string }>(
      `SELECT status, attempts, count(*) AS n FROM deliveries WHERE run_id = $1 GROUP BY status, attempts`,
      [run.runId],
    );
    expect(ledgerRows).toEqual([{ status: 'sent', attempts: 1, n: String(N) }]);
    const [interactions] = await api.query<{ n: string }>(
      `SELECT count(*) AS n FROM interactions WHERE tenant_id = $1 AND type = 'delivery_sent'`,
      [run.tenantId],
    );
    expect(interactions?.n).toBe(String(N));
    // The quota counts each send once, once the beat settled what the pipeline could not (and
    // Redis, which holds part of the count, is back).
    await eventually(() => Promise.resolve(appRedis.status === 'ready'), { what: 'redis reconnected' });
    await api.app.get(DeliveryReconciler).settleReservations({ olderThanMs: 0, limit: 1000 });
    const account = await accounts().find(run.tenantId, run.accountId);
    const [day] = await quota().usage(quotaAccountOf(account!));
    expect(day?.used).toBe(N);
    expect(await quota().pending(0)).toEqual([]);
    const [runRow] = await api.query<{ status: string }>('SELECT status FROM campaign_runs WHERE id = $1', [
      run.runId,
    ]);
    expect(runRow?.status).toBe('completed');
    return { handedBack, delays };
  }

  /** The step met the real refusal: Postgres's 57P01, or pg's own word when the socket closed first. */
  const terminated = () =>
    expect(
      seen.some((e) => {
        const { code, message } = e as { code?: string; message?: string };
        return code === '57P01' || /Connection terminated unexpectedly/.test(message ?? '');
      }),
    ).toBe(true);

  describe('Postgres refuses', () => {
    it('the load: retried until it answers', async () => {
      const before = await stageRetries('load');
      await runThrough(() => once(ledger(), 'load', postgres('deliveries')));
      terminated();
      expect(await stageRetries('load')).toBeGreaterThan(before);
    });

    it('the sender account lookup: retried, never "sender account not found"', async () => {
      const before = await stageRetries('account lookup');
      await runThrough(() => once(accounts(), 'forSending', postgres('sender_accounts')));
      terminated();
      expect(await stageRetries('account lookup')).toBeGreaterThan(before);
    });

    it('the quota lease: the deliveries wait a moment ("quota unavailable"), never deferred or skipped', async () => {
      const { delays } = await runThrough(() => once(quota(), 'reserveBatch', postgres('quota_usage')));
      // The refused lease is not an error of the step: QuotaService answers "unavailable".
      expect(delays).toContain('quota unavailable');
    });

    it('the claim: retried with the same claim token, so no attempt is counted twice', async () => {
      const before = await stageRetries('claim');
      await runThrough(() => once(ledger(), 'claim', postgres('deliveries')));
      terminated();
      expect(await stageRetries('claim')).toBeGreaterThan(before);
    });

    it('the record of a send: retried until it lands, nothing sent again', async () => {
      const before = await stageRetries('record sent');
      await runThrough(() => once(ledger(), 'markSent', postgres('interactions')));
      terminated();
      expect(await stageRetries('record sent')).toBeGreaterThan(before);
    });

    it('the quota commit of a Postgres reservation: retried', async () => {
      const before = await stageRetries('quota commit');
      await runThrough(() => {
        // Redis away at the reserve puts the reservations in Postgres; then Postgres refuses the commit.
        const reserved = once(quota(), 'reserveBatch', redis);
        const committed = once(quota(), 'commit', postgres('quota_reservations'));
        return () => reserved() && committed();
      });
      terminated();
      expect(await stageRetries('quota commit')).toBeGreaterThan(before);
    });
  });

  describe('Redis refuses', () => {
    it.each([
      ['the load', () => once(ledger(), 'load', redis)],
      ['the sender account lookup', () => once(accounts(), 'forSending', redis)],
      ['the quota reserve (decided in Postgres instead)', () => once(quota(), 'reserveBatch', redis)],
      ['the claim', () => once(ledger(), 'claim', redis)],
      ['the record of a send', () => once(ledger(), 'markSent', redis)],
      ['the quota commit (settled by the beat instead)', () => once(quota(), 'commitMany', redis)],
    ])('%s', async (_step, arm) => {
      await runThrough(arm);
    });
  });
});
