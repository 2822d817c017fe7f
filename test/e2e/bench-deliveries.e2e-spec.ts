import { runBench } from '../support/bench-run';

jest.setTimeout(300_000);

interface Setting {
  setting: string;
  perSecond: number;
}

describe('bench deliveries', () => {
  it('measures raw BullMQ, the raw ledger SQL and a raw webhook delivery, then Herald against them', async () => {
    const result = await runBench(['deliveries', '--deliveries=400', '--concurrency=50', '--workers=1']);
    expect({ code: result.code, stderr: result.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(
      /herald, 1 worker process\(es\): \d+ deliveries\/s \(\d+\.\d+ × floor, \d+\.\d+ × raw webhook delivery\)/,
    );
    const figures = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      n: number;
      raw_bullmq: { best: Setting; tried: Setting[] };
      raw_sql: { best: Setting; tried: Setting[] };
      raw_delivery: {
        best: Setting;
        tried: (Setting & { cpuMsPerDelivery: { loop: number; postgres: number; sink: number } })[];
      };
      floor_per_s: number;
      results: {
        workers: number;
        deliveriesPerSecond: number;
        peakRssMb: number[];
        cpuMsPerDelivery: number;
      }[];
    };
    expect(figures.n).toBe(400);
    const best = (s: { tried: Setting[] }) => Math.max(...s.tried.map((t) => t.perSecond));
    expect(figures.raw_bullmq.tried.map((t) => t.setting)).toEqual([
      'concurrency 50',
      'concurrency 100',
      'concurrency 200',
    ]);
    expect(figures.raw_bullmq.best.perSecond).toBe(best(figures.raw_bullmq));
    expect(figures.raw_sql.best.perSecond).toBe(best(figures.raw_sql));
    expect(figures.floor_per_s).toBe(
      Math.round(Math.min(figures.raw_bullmq.best.perSecond, figures.raw_sql.best.perSecond)),
    );
    // The raw loop delivered every row to the sink exactly once with valid signatures (or the bench fails),
    // on 1 and 4 connections, and its CPU was measured in the loop, Postgres and the sink.
    expect(figures.raw_delivery.tried.map((t) => t.setting)).toEqual(['1 connection(s)', '4 connection(s)']);
    expect(figures.raw_delivery.best.perSecond).toBe(best(figures.raw_delivery));
    for (const t of figures.raw_delivery.tried) {
      expect(t.perSecond).toBeGreaterThan(0);
      expect(t.cpuMsPerDelivery.loop).toBeGreaterThan(0);
      expect(t.cpuMsPerDelivery.sink).toBeGreaterThan(0);
    }
    const [herald] = figures.results;
    expect(herald).toMatchObject({ workers: 1 });
    expect(herald!.deliveriesPerSecond).toBeGreaterThan(0);
    expect(herald!.cpuMsPerDelivery).toBeGreaterThan(0);
    expect(herald!.peakRssMb[0]).toBeGreaterThan(20);
  });
});
