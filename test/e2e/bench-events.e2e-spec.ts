import { runBench } from '../support/bench-run';

jest.setTimeout(300_000);

/** `npm run bench -- events` as built, small: it ingests, checks the rollups itself, and reports. */
describe('bench events', () => {
  it('ingests N events through the api into the rollups, against a raw COPY, and reads the campaign', async () => {
    const result = await runBench([
      'events',
      '--events=3000',
      '--deliveries=2500',
      '--batch=500',
      '--duration=1',
      '--connections=2',
    ]);
    expect({ code: result.code, stderr: result.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain('| API ingestion / raw COPY |');
    const figures = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      events: number;
      deliveries: number;
      copy_events_per_s: number;
      api_events_per_s: number;
      ratio: number;
      delta_rows: number;
      read_by_day: { p99_ms: number; rps: number };
    };
    expect(figures).toMatchObject({ events: 3000, deliveries: 2500 });
    expect(figures.copy_events_per_s).toBeGreaterThan(0);
    expect(figures.api_events_per_s).toBeGreaterThan(0);
    expect(figures.ratio).toBeCloseTo(figures.api_events_per_s / figures.copy_events_per_s, 2);
    // The ingestion appended grouped deltas, far fewer than one per event.
    expect(figures.delta_rows).toBeGreaterThan(0);
    expect(figures.delta_rows).toBeLessThan(3000);
    expect(figures.read_by_day.rps).toBeGreaterThan(0);
    expect(figures.read_by_day.p99_ms).toBeGreaterThan(0);
  });

  it('refuses a bad --events', async () => {
    const result = await runBench(['events', '--events=0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--events must be a positive integer');
  });
});
