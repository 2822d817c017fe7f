import { hashTaggedPrefix } from '@herald/queues';
import {
  callApi,
  createTestDatabase,
  eventually,
  HeraldProcess,
  TEST_ADMIN_KEY,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  WebhookSink,
  type TestDatabase,
  createTenant,
} from '@herald/testing';
import { Queue, QueueEvents } from 'bullmq';
import { metricNamesInDeployArtifacts, metricNamesInExpr, readDashboard } from '../deploy/metric-names';

jest.setTimeout(90_000);

const SECRET = 'metrics-e2e-sink-secret-0123456789abcdef';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (histogram series keep their suffixes). */
function samples(text: string): Sample[] {
  return [...text.matchAll(/^(herald_\w+)(?:\{([^}]*)\})? (\S+)$/gm)].map((m) => ({
    name: m[1]!,
    labels: Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!])),
    value: Number(m[3]),
  }));
}

/** The value of the sample of `name` whose labels include `labels`, if any. */
function valueOf(list: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return list.find(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  )?.value;
}

/**
 * Every metric a dashboard panel or an alert rule queries is exported by a running fleet: a
 * renamed metric or a typo in a dashboard fails here, not silently in Grafana. The campaign
 * metrics are checked further: once a schedule fires and a sequence runs, the processes that
 * do that work export samples with the labels the Campaigns dashboard and the alerts select.
 */
describe('dashboards and alert rules match what the fleet exports', () => {
  let db: TestDatabase;
  let sink: WebhookSink;
  let runs: Queue;
  let events: QueueEvents;
  let api: HeraldProcess;
  let worker: HeraldProcess;
  let beat: HeraldProcess;
  const fleet: HeraldProcess[] = [];

  beforeAll(async () => {
    [db, sink] = await Promise.all([createTestDatabase(), WebhookSink.start(SECRET)]);
    const prefix = testRedisPrefix();
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: prefix,
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      BEAT_TICK_INTERVAL_MS: '200',
    });
    fleet.push(
      ...(await Promise.all([
        HeraldProcess.start('api', env),
        HeraldProcess.start('worker', env),
        HeraldProcess.start('beat', env),
      ])),
    );
    [api, worker, beat] = fleet as [HeraldProcess, HeraldProcess, HeraldProcess];
    const connection = { url: testRedisUrl() };
    runs = new Queue('runs', { connection, prefix: hashTaggedPrefix(prefix) });
    events = new QueueEvents('runs', { connection, prefix: hashTaggedPrefix(prefix) });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await Promise.all(fleet.map((p) => p.stop()));
    await Promise.all([runs?.close(), events?.close(), sink?.stop()]);
    await db?.drop();
  });

  const call = <T>(method: string, path: string, key: string, body?: unknown) =>
    callApi<T>(api.publicUrl, method, path, key, body);
  const scrape = async (p: HeraldProcess) => (await fetch(`${p.opsUrl}/metrics`)).text();

  it('exports every herald_* metric the dashboards and alerts use', async () => {
    // Readiness fills the component gauges; the scrape fills the collected ones.
    for (const p of fleet) await fetch(`${p.opsUrl}/ready`);
    const exported = new Set<string>();
    for (const p of fleet) {
      const text = await scrape(p);
      for (const match of text.matchAll(/^# TYPE (\S+) /gm)) exported.add(match[1]!);
    }
    const used = metricNamesInDeployArtifacts();
    expect(used.length).toBeGreaterThan(20);
    const missing = used.filter((name) => !exported.has(name));
    expect(missing).toEqual([]);
  });

  it('exports samples of the campaign metrics once a schedule fires and a sequence runs', async () => {
    const tenant = await createTenant(api.publicUrl, TEST_ADMIN_KEY, 'Metrics', 'UTC');
    const key = tenant.key;
    const account = await call<{ id: string }>('POST', '/v1/sender-accounts', key, {
      name: 'Sink',
      channel: 'webhook',
      config: { url: sink.url, secret: SECRET },
      time_zone: 'UTC',
    });
    expect(account.status).toBe(201);
    const imported = await call<{ created: number }>('POST', '/v1/contacts/import', key, [
      { email: 'reader@example.test', first_name: 'Reader' },
    ]);
    expect(imported.body.created).toBe(1);
    const contacts = await call<{ data: { id: string }[] }>('GET', '/v1/contacts?limit=10', key);
    const contactId = contacts.body.data[0]!.id;

    // A daily slot two hours ago: its fire is late, so catch_up decides whether it runs.
    const slot = Math.floor((Date.now() - 2 * 3_600_000) / 60_000) * 60_000;
    const schedule = { at: new Date(slot).toISOString().slice(11, 16), time_zone: 'UTC' };
    const broadcast = (name: string, catchUp: 'fire_once' | 'skip') =>
      call<{ id: string }>('POST', '/v1/campaigns', key, {
        name,
        kind: 'broadcast',
        sender_account_id: account.body.id,
        steps: [{ subject: 'News', body: 'Hello {{ first_name }}' }],
        schedule,
        catch_up: catchUp,
      });
    const [fireOnce, skip] = await Promise.all([
      broadcast('Digest', 'fire_once'),
      broadcast('Flash', 'skip'),
    ]);
    expect([fireOnce.status, skip.status]).toEqual([201, 201]);
    const fire = (campaignId: string) =>
      runs.add(
        'campaigns.fire',
        {
          payload: { tenant_id: tenant.id, campaign_id: campaignId, slot: new Date(slot).toISOString() },
          trace: {},
        },
        { jobId: `fire-${campaignId}-${slot}` },
      );
    const [fired, skipped] = await Promise.all([fire(fireOnce.body.id), fire(skip.body.id)]);
    expect(await fired.waitUntilFinished(events, 30_000)).toEqual(
      expect.objectContaining({ outcome: 'fired' }),
    );
    expect(await skipped.waitUntilFinished(events, 30_000)).toEqual({ outcome: 'skipped_late' });

    const sequence = await call<{ id: string }>('POST', '/v1/campaigns', key, {
      name: 'Welcome',
      kind: 'sequence',
      sender_account_id: account.body.id,
      steps: [{ delay: 0, subject: 'Welcome', body: 'Welcome, {{ first_name }}' }],
    });
    expect(sequence.status).toBe(201);
    const enrolled = await call<{ enrolled: number }>(
      'POST',
      `/v1/campaigns/${sequence.body.id}/enrollments`,
      key,
      { contact_ids: [contactId] },
    );
    expect(enrolled).toMatchObject({ status: 200, body: { enrolled: 1 } });

    const [workerSamples, beatSamples] = await eventually(
      async () => {
        const [w, b] = [samples(await scrape(worker)), samples(await scrape(beat))];
        expect(
          valueOf(w, 'herald_campaign_runs_total', {
            kind: 'broadcast',
            trigger: 'schedule',
            outcome: 'completed',
          }),
        ).toBe(1);
        expect(valueOf(b, 'herald_beat_duty_items_total', { duty: 'enrollment-ticker' })).toBeGreaterThan(0);
        expect(sink.delivered.size).toBe(2);
        return [w, b] as const;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: 'the scheduled run completed and the sequence step was sent',
      },
    );
    expect(
      valueOf(workerSamples, 'herald_schedule_fires_total', { kind: 'broadcast', outcome: 'fired' }),
    ).toBe(1);
    expect(
      valueOf(workerSamples, 'herald_schedule_fires_total', { kind: 'broadcast', outcome: 'skipped_late' }),
    ).toBe(1);
    const enrollments = beatSamples.filter((s) => s.name === 'herald_enrollments');
    expect(enrollments.map((s) => s.labels.state).sort()).toEqual([
      'active',
      'completed',
      'replied',
      'stopped',
    ]);
    expect(enrollments.reduce((sum, s) => sum + s.value, 0)).toBe(1);
    expect(valueOf(beatSamples, 'herald_enrollment_ticker_lag_seconds')).toBeGreaterThanOrEqual(0);
    for (const duty of ['schedules', 'enrollment-ticker'])
      expect(valueOf(beatSamples, 'herald_beat_duty_runs_total', { duty, outcome: 'ok' })).toBeGreaterThan(0);

    // Every metric of the Campaigns dashboard now has samples in some process.
    const sampled = new Set<string>();
    for (const p of fleet) for (const s of samples(await scrape(p))) sampled.add(s.name);
    const used = [
      ...new Set(
        readDashboard('deploy/grafana/dashboards/campaigns.json').queries.flatMap((q) =>
          metricNamesInExpr(q.expr),
        ),
      ),
    ];
    expect(used.length).toBeGreaterThanOrEqual(8);
    expect(used.filter((name) => !sampled.has(name))).toEqual([]);
  });
});
