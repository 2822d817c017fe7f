import { runBench } from '../support/bench-run';

jest.setTimeout(300_000);

/** `npm run bench -- sourcing` as built, small: it runs the pipeline, checks what it left, and reports. */
describe('bench sourcing', () => {
  it('takes N candidates from the directory to hand-off with one worker, against the raw fetches, with RSS by quarter', async () => {
    const result = await runBench(['sourcing', '--candidates=12', '--concurrency=2', '--page-size=5']);
    expect({ code: result.code, stderr: result.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain('| Herald / best raw (');
    const figures = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      candidates: number;
      concurrency: number;
      herald_candidates_per_s: number;
      raw: { setting: string; candidates_per_s: number }[];
      raw_best_candidates_per_s: number;
      ratio: number;
      rss_mb_by_quarter: number[];
      stages: Record<string, number>;
      contacts: number;
      site_requests: number;
      enrichment: Record<string, number>;
    };
    expect(figures).toMatchObject({ candidates: 12, concurrency: 2 });
    // The worker's fetch concurrency, half, twice and four times it were tried for the floor, the best kept.
    expect(figures.raw.map((r) => r.setting)).toEqual([
      'concurrency 2',
      'concurrency 1',
      'concurrency 4',
      'concurrency 8',
    ]);
    expect(figures.raw_best_candidates_per_s).toBe(Math.max(...figures.raw.map((r) => r.candidates_per_s)));
    expect(figures.herald_candidates_per_s).toBeGreaterThan(0);
    expect(figures.ratio).toBeCloseTo(figures.herald_candidates_per_s / figures.raw_best_candidates_per_s, 2);
    expect(figures.rss_mb_by_quarter).toHaveLength(4);
    for (const rss of figures.rss_mb_by_quarter) expect(rss).toBeGreaterThan(20);
    // Every candidate went the whole way (none left discovered, assessed or enriched), the handed-off ones became contacts.
    expect(Object.values(figures.stages).reduce((a, b) => a + b, 0)).toBe(12);
    expect(Object.keys(figures.stages).sort()).not.toContain('discovered');
    expect(figures.contacts).toBe(figures.stages.handed_off ?? 0);
    // The enrichment account authenticates as the provider wants: lookups answered, none refused.
    expect(figures.enrichment.enriched).toBeGreaterThan(0);
    expect(Object.keys(figures.enrichment).filter((k) => k.startsWith('failed'))).toEqual([]);
    // Each site was fetched by Herald (robots.txt and the page at least).
    expect(figures.site_requests).toBeGreaterThanOrEqual(24);
  });

  it('refuses a bad --candidates', async () => {
    const result = await runBench(['sourcing', '--candidates=0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--candidates must be a positive integer');
  });
});
