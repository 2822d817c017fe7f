import {
  createTestDatabase,
  HeraldProcess,
  testEnvironment,
  testRedisPrefix,
  testRedisUrl,
  type TestDatabase,
} from '@herald/testing';
import { metricNamesInDeployArtifacts } from '../deploy/metric-names';

jest.setTimeout(90_000);

/**
 * Every metric a dashboard panel or an alert rule queries is exported by a running fleet: a
 * renamed metric or a typo in a dashboard fails here, not silently in Grafana.
 */
describe('dashboards and alert rules match what the fleet exports', () => {
  let db: TestDatabase;
  const fleet: HeraldProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = testEnvironment({
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl(),
      QUEUE_PREFIX: testRedisPrefix(),
    });
    fleet.push(
      ...(await Promise.all([
        HeraldProcess.start('api', env),
        HeraldProcess.start('worker', env),
        HeraldProcess.start('beat', env),
      ])),
    );
  });

  afterAll(async () => {
    await Promise.all(fleet.map((p) => p.stop()));
    await db?.drop();
  });

  it('exports every herald_* metric the dashboards and alerts use', async () => {
    // Readiness fills the component gauges; the scrape fills the collected ones.
    for (const p of fleet) await fetch(`${p.opsUrl}/ready`);
    const exported = new Set<string>();
    for (const p of fleet) {
      const text = await (await fetch(`${p.opsUrl}/metrics`)).text();
      for (const match of text.matchAll(/^# TYPE (\S+) /gm)) exported.add(match[1]!);
    }
    const used = metricNamesInDeployArtifacts();
    expect(used.length).toBeGreaterThan(20);
    const missing = used.filter((name) => !exported.has(name));
    expect(missing).toEqual([]);
  });
});
