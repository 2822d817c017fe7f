import { progressText, renderRun, RunProgress, type RunView } from './run-progress';

const T0 = Date.parse('2026-11-22T10:20:00.000Z');

function run(overrides: Partial<RunView> = {}, counts: Partial<RunView['counts']> = {}): RunView {
  return {
    id: '0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f',
    campaign_id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
    status: 'running',
    dry_run: false,
    counts: {
      targeted: 500,
      pending: 0,
      sent: 0,
      failed: 0,
      skipped: 0,
      deferred: 0,
      cancelled: 0,
      ...counts,
    },
    created_at: '2026-11-22T10:20:00.000Z',
    started_at: '2026-11-22T10:20:00.150Z',
    finished_at: null,
    ...overrides,
  };
}

describe('RunProgress against an api that estimates (progress, rate_per_second, eta)', () => {
  it('uses its figures as they are', () => {
    const estimate = new RunProgress().observe(
      run(
        {
          progress: { done: 380, total: 500, ratio: 0.76, fanout_done: true },
          rate_per_second: 2.5,
          eta: '2026-11-22T10:20:48.000Z',
          eta_reason: 'quota',
        },
        { sent: 370, failed: 2, skipped: 8 },
      ),
      T0,
    );
    expect(estimate).toEqual({
      done: 380,
      total: 500,
      fanoutDone: true,
      ratePerSecond: 2.5,
      etaSeconds: 48,
      etaReason: 'quota',
    });
  });

  it('shows no ETA when the api has no basis for one', () => {
    const estimate = new RunProgress().observe(
      run({ progress: { done: 0, total: 10, ratio: 0, fanout_done: false }, rate_per_second: 0, eta: null }),
      T0,
    );
    expect(estimate.etaSeconds).toBeUndefined();
    expect(estimate.fanoutDone).toBe(false);
  });
});

describe('RunProgress against an older api (counts only)', () => {
  it('measures the rate over successive polls and derives the ETA', () => {
    const progress = new RunProgress();
    expect(progress.observe(run({}, { sent: 100 }), T0).ratePerSecond).toBeUndefined();
    const estimate = progress.observe(run({}, { sent: 180, failed: 10, skipped: 10 }), T0 + 2000);
    expect(estimate.done).toBe(200);
    expect(estimate.ratePerSecond).toBe(50);
    expect(estimate.etaSeconds).toBe(6);
  });

  it('has an ETA of nothing once everything settled', () => {
    const estimate = new RunProgress().observe(run({ status: 'completed' }, { sent: 500 }), T0);
    expect(estimate.etaSeconds).toBeUndefined();
    expect(estimate.done).toBe(500);
  });
});

describe('progressText', () => {
  it('draws the bar, the counts, the rate and the ETA', () => {
    const r = run({}, { sent: 200, failed: 5, skipped: 5 });
    expect(
      progressText(r, { done: 210, total: 500, fanoutDone: true, ratePerSecond: 45, etaSeconds: 6.4 }),
    ).toBe(
      'run 0190f5e4 running [##########--------------] 42% 210/500 · sent 200 · deferred 0 · failed 5 · skipped 5 · 45/s · ETA 6s',
    );
  });

  it('says so while the audience is still being selected', () => {
    expect(progressText(run({ status: 'queued' }), { done: 0, total: 120, fanoutDone: false })).toBe(
      'run 0190f5e4 queued · selecting the audience… 120 so far',
    );
  });

  it('names a quota-bound ETA, and shows none once the run is over', () => {
    const r = run({}, { sent: 10 });
    expect(
      progressText(r, { done: 10, total: 500, fanoutDone: true, etaSeconds: 3600, etaReason: 'quota' }),
    ).toContain('ETA 1h00m (quota)');
    const done = run({ status: 'cancelled' }, { sent: 10, cancelled: 490 });
    expect(progressText(done, { done: 500, total: 500, fanoutDone: true, etaSeconds: 0 })).toBe(
      'run 0190f5e4 cancelled [########################] 100% 500/500 · sent 10 · deferred 0 · failed 0 · skipped 0 · cancelled 490',
    );
  });

  it('counts deliveries held as unknown as done, and says where to find them', () => {
    const r = run({ status: 'completed' }, { sent: 497, unknown: 3 });
    const estimate = new RunProgress().observe(r, T0);
    expect(estimate.done).toBe(500);
    expect(progressText(r, estimate)).toBe(
      'run 0190f5e4 completed [########################] 100% 500/500 · sent 497 · deferred 0 · failed 0 · skipped 0 · unknown 3 (herald deliveries unknown)',
    );
    expect(renderRun(r)).toMatch(/^unknown +3$/m);
  });
});

describe('renderRun', () => {
  it('lists the run, and a dry run’s forecast summary last', () => {
    const text = renderRun(
      run({ status: 'completed', dry_run: true, forecast: { summary: '500 targeted, all today' } }),
    );
    expect(text).toContain('status     completed');
    expect(text).toContain('dry run    yes');
    expect(text.endsWith('\n\n500 targeted, all today')).toBe(true);
  });
});
