import { decideExperiment, type VariantCounts } from './experiment-verdict';
import { normalTail, twoProportionZTest } from './z-test';

describe('twoProportionZTest', () => {
  // Reference values from the textbook formula computed with Python's math.erfc.
  it.each([
    [200, 1000, 150, 1000, 2.9424494316825, 0.0032562696284120633],
    [45, 500, 30, 500, 1.8009006755629924, 0.07171853650843417],
    [30, 300, 10, 300, 3.273268353539886, 0.0010631149171586032],
  ])('%i/%i against %i/%i: z %f, p %f', (x1, n1, x2, n2, z, p) => {
    const test = twoProportionZTest({ successes: x1, trials: n1 }, { successes: x2, trials: n2 })!;
    expect(test.z).toBeCloseTo(z, 9);
    expect(test.p).toBeCloseTo(p, 6);
  });

  it('is symmetric: swapping the sides flips z and keeps p', () => {
    const ab = twoProportionZTest({ successes: 45, trials: 500 }, { successes: 30, trials: 500 })!;
    const ba = twoProportionZTest({ successes: 30, trials: 500 }, { successes: 45, trials: 500 })!;
    expect(ba.z).toBeCloseTo(-ab.z, 12);
    expect(ba.p).toBeCloseTo(ab.p, 12);
  });

  it('equal rates give z 0 and p 1; no trials or no spread give no test', () => {
    expect(twoProportionZTest({ successes: 10, trials: 100 }, { successes: 10, trials: 100 })).toEqual({
      z: 0,
      p: 1,
    });
    expect(twoProportionZTest({ successes: 0, trials: 0 }, { successes: 1, trials: 10 })).toBeNull();
    expect(twoProportionZTest({ successes: 0, trials: 50 }, { successes: 0, trials: 50 })).toBeNull();
  });

  it('the normal tail matches the known quantiles', () => {
    expect(2 * normalTail(1.959963984540054)).toBeCloseTo(0.05, 6);
    expect(normalTail(0)).toBeCloseTo(0.5, 7);
    expect(normalTail(-1.6448536269514722)).toBeCloseTo(0.95, 6);
  });
});

describe('decideExperiment', () => {
  const counts = (sent: number, replied: number, variant: string): VariantCounts => ({
    variant,
    sent,
    replied,
    clicked: 0,
    converted: 0,
  });
  const settings = { metric: 'reply' as const, min_sample: 300, confidence: 0.95 };

  it('calls the leader the winner once every variant has its sample and the difference is significant', () => {
    const verdict = decideExperiment([counts(300, 10, 'A'), counts(300, 30, 'B')], settings);
    expect(verdict).toMatchObject({ leader: 'B', winner: 'B', pending: null });
    expect(verdict.variants.find((v) => v.variant === 'A')).toMatchObject({ rate: 10 / 300 });
    expect(verdict.variants.find((v) => v.variant === 'A')!.p).toBeCloseTo(0.0010631149171586032, 6);
  });

  it('waits for the minimum sample, however clear the lead', () => {
    const verdict = decideExperiment([counts(299, 0, 'A'), counts(300, 100, 'B')], settings);
    expect(verdict.winner).toBeNull();
    expect(verdict.leader).toBe('B');
    expect(verdict.pending).toMatch(/A short/);
  });

  it('calls no winner when the lead is not significant', () => {
    const verdict = decideExperiment([counts(500, 30, 'A'), counts(500, 45, 'B')], {
      ...settings,
      min_sample: 500,
    });
    expect(verdict).toMatchObject({ leader: 'B', winner: null });
  });

  it('splits the significance between the comparisons of an A/B/n test (Bonferroni)', () => {
    // p ≈ 0.033 against each: under 0.05, but not under 0.05 / 2.
    const two = decideExperiment([counts(1000, 100, 'A'), counts(1000, 130, 'B')], {
      ...settings,
      min_sample: 1000,
    });
    expect(two.winner).toBe('B');
    const three = decideExperiment([counts(1000, 100, 'A'), counts(1000, 130, 'B'), counts(1000, 100, 'C')], {
      ...settings,
      min_sample: 1000,
    });
    expect(three.winner).toBeNull();
  });

  it('decides on the chosen metric', () => {
    const byClick = decideExperiment(
      [
        { variant: 'A', sent: 400, replied: 40, clicked: 5, converted: 0 },
        { variant: 'B', sent: 400, replied: 10, clicked: 40, converted: 0 },
      ],
      { metric: 'click', min_sample: 400, confidence: 0.99 },
    );
    expect(byClick.winner).toBe('B');
  });
});
