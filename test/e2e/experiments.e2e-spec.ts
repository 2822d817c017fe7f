import { EngagementRecorder } from '@herald/engagement';
import {
  callApi,
  createTestDatabase,
  eventually,
  HeraldProcess,
  SmtpSink,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
  createTenant,
} from '@herald/testing';
import { Client } from 'pg';
import type { EntityManager } from 'typeorm';

jest.setTimeout(180_000);

const WAVE = 120;

type Run = { id: string; status: string; counts: { sent: number } };
interface Experiment {
  step: number;
  variants: { name: string; sent: number; replied: number; rate: number | null; p: number | null }[];
  leader: string | null;
  winner: string | null;
  pending: string | null;
  promoted: { variant: string; by: string } | null;
}

/**
 * An A/B test from first wave to promotion, with real api, worker and beat processes and an
 * SMTP sink: the first wave is split between the variants by the hash, replies come in for
 * one of them, the beat's evaluation calls it the winner and promotes it, and the rest of the
 * audience gets only the winner.
 */
describe('an A/B experiment decided and promoted (api + worker + beat, SMTP sink)', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let client: Client;
  const processes: HeraldProcess[] = [];
  let api: HeraldProcess;

  beforeAll(async () => {
    [db, sink] = await Promise.all([createTestDatabase(), SmtpSink.start()]);
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: testRedisPrefix(),
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      API_RATE_LIMIT_PER_SECOND: '0',
      BEAT_EXPERIMENTS_INTERVAL_MS: '300',
      // Only what a campaign needs (the sourcing queue is another feature's).
      WORKER_QUEUES: 'system,runs,deliveries',
    });
    processes.push(
      ...(await Promise.all([
        HeraldProcess.start('api', env),
        HeraldProcess.start('worker', env),
        HeraldProcess.start('beat', env),
      ])),
    );
    api = processes[0]!;
    client = new Client({ connectionString: db.url });
    await client.connect();
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await client?.end();
    await sink?.stop();
    await db?.drop();
  });

  const call = <T>(method: string, path: string, key: string, body?: unknown) =>
    callApi<T>(api.publicUrl, method, path, key, body);

  async function runToCompletion(key: string, campaignId: string): Promise<string> {
    const started = await call<{ id: string }>('POST', `/v1/campaigns/${campaignId}/runs`, key, {});
    expect(started.status).toBe(202);
    await eventually(
      async () => {
        const run = await call<Run>('GET', `/v1/runs/${started.body.id}`, key);
        return run.body.status === 'completed' ? run.body : undefined;
      },
      { timeoutMs: 60_000, what: 'run completed' },
    );
    return started.body.id;
  }

  it('splits the first wave, calls the variant with the replies the winner, and sends the rest only the winner', async () => {
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Experimenter');
    const key = tenant.key;
    const tenantId = tenant.id;
    const account = await call<{ id: string }>('POST', '/v1/sender-accounts', key, {
      name: 'Sink',
      channel: 'smtp',
      config: {
        host: '127.0.0.1',
        port: sink.port,
        secure: false,
        username: 'u',
        password: 'p',
        from: 'Team <team@example.test>',
      },
    });
    expect(account.status).toBe(201);
    const contacts = (wave: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        email: `${wave}-${i}@example.test`,
        first_name: `R${i}`,
        tags: [wave],
      }));
    expect(
      (
        await call<{ created: number }>('POST', '/v1/contacts/import', key, [
          ...contacts('first', WAVE),
          ...contacts('rest', WAVE),
        ])
      ).body,
    ).toMatchObject({ created: 2 * WAVE });

    const bad = await call<{ errors: { field: string }[] }>('POST', '/v1/campaigns', key, {
      name: 'Bad',
      kind: 'broadcast',
      sender_account_id: account.body.id,
      steps: [
        {
          body: 'x',
          variants: [
            { name: 'A', subject: 'a' },
            { name: 'A', subject: 'b' },
          ],
        },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field)).toContain('steps[0].variants[1].name');

    const campaign = await call<{ id: string }>('POST', '/v1/campaigns', key, {
      name: 'Subject test',
      kind: 'broadcast',
      sender_account_id: account.body.id,
      steps: [
        {
          subject: 'Base {{ first_name }}',
          body: 'Hello {{ first_name }}',
          variants: [
            { name: 'A', subject: 'Plain news for {{ first_name }}' },
            { name: 'B', subject: 'You will want this, {{ first_name }}' },
          ],
          experiment: { metric: 'reply', min_sample: 30, confidence: 0.95, auto_promote: true },
        },
      ],
      audience: { tags: ['first'] },
    });
    expect(campaign.status).toBe(201);
    const campaignId = campaign.body.id;

    const firstRun = await runToCompletion(key, campaignId);
    await sink.waitForMessages(WAVE);
    const sent = (
      await client.query<{ id: string; variant: string }>(
        `SELECT id, variant FROM deliveries WHERE tenant_id = $1 AND run_id = $2 AND status = 'sent'`,
        [tenantId, firstRun],
      )
    ).rows;
    expect(sent).toHaveLength(WAVE);
    const byVariant = (v: string) => sent.filter((d) => d.variant === v);
    // Both variants got a fair share of the wave (weights 1:1; 5 σ of a binomial share).
    expect(Math.abs(byVariant('A').length - WAVE / 2)).toBeLessThanOrEqual(5 * Math.sqrt(WAVE / 4));
    expect(byVariant('A').length + byVariant('B').length).toBe(WAVE);
    // What went out is the variant's subject, as the ledger says.
    const subjects = [...sink.messages.values()].map((m) => m.subject ?? '');
    expect(subjects.filter((s) => s.startsWith('Plain news'))).toHaveLength(byVariant('A').length);
    expect(subjects.filter((s) => s.startsWith('You will want'))).toHaveLength(byVariant('B').length);

    const before = await call<{ data: Experiment[] }>('GET', `/v1/campaigns/${campaignId}/experiments`, key);
    expect(before.body.data[0]).toMatchObject({ step: 0, winner: null, promoted: null });
    expect(before.body.data[0]!.variants.map((v) => [v.name, v.sent])).toEqual([
      ['A', byVariant('A').length],
      ['B', byVariant('B').length],
    ]);

    // Replies, through the one engagement recorder: most of B's readers answer, one of A's.
    const recorder = new EngagementRecorder();
    const manager = {
      query: (sql: string, params: unknown[]) =>
        client.query<Record<string, unknown>>(sql, params).then((r) => r.rows),
    };
    const repliers = [
      ...byVariant('B').slice(0, Math.ceil(byVariant('B').length * 0.6)),
      ...byVariant('A').slice(0, 1),
    ];
    for (const d of repliers)
      await recorder.record(manager as unknown as EntityManager, {
        tenantId,
        kind: 'replied',
        source: 'api',
        sourceEventId: `reply-${d.id}`,
        occurredAt: new Date(),
        deliveryId: d.id,
      });

    // The beat evaluates on its own: B is called the winner and promoted.
    const decided = await eventually(
      async () => {
        const res = await call<{ data: Experiment[] }>('GET', `/v1/campaigns/${campaignId}/experiments`, key);
        return res.body.data[0]?.promoted ? res.body.data[0] : undefined;
      },
      { timeoutMs: 30_000, what: 'the winner promoted by beat' },
    );
    expect(decided).toMatchObject({
      winner: 'B',
      leader: 'B',
      promoted: { variant: 'B', by: 'auto' },
      pending: null,
    });
    const a = decided.variants.find((v) => v.name === 'A')!;
    expect(a.replied).toBe(1);
    expect(a.p).toBeLessThan(0.05);

    // The rest of the audience gets only the winner.
    expect(
      (await call('PATCH', `/v1/campaigns/${campaignId}`, key, { audience: { tags: ['rest'] } })).status,
    ).toBe(200);
    const secondRun = await runToCompletion(key, campaignId);
    await sink.waitForMessages(2 * WAVE);
    const rest = (
      await client.query<{ variant: string; n: string }>(
        `SELECT variant, count(*) AS n FROM deliveries WHERE tenant_id = $1 AND run_id = $2 AND status = 'sent' GROUP BY variant`,
        [tenantId, secondRun],
      )
    ).rows;
    expect(rest).toEqual([{ variant: 'B', n: String(WAVE) }]);
    const restSubjects = [...sink.messages.values()].slice(WAVE).map((m) => m.subject ?? '');
    expect(restSubjects.every((s) => s.startsWith('You will want this'))).toBe(true);
    expect(sink.duplicates).toBe(0);

    // A manual promotion overrides; an unknown variant is a 400 naming the field.
    const unknown = await call<{ errors: { field: string }[] }>(
      'POST',
      `/v1/campaigns/${campaignId}/experiments/0/promote`,
      key,
      { variant: 'Z' },
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0]!.field).toBe('variant');
    const manual = await call<Experiment>('POST', `/v1/campaigns/${campaignId}/experiments/0/promote`, key, {
      variant: 'A',
    });
    expect(manual.status).toBe(200);
    expect(manual.body).toMatchObject({ winner: 'B', promoted: { variant: 'A', by: 'manual' } });
  });
});
