import { score } from './score';
import { scoringVersionBody, type ScoringRule } from './scoring-rules';

const rules: ScoringRule[] = [
  { name: 'HTTPS', field: 'assessment.https', op: 'equals', value: true, points: 20 },
  { name: 'mobile viewport', field: 'assessment.viewport', op: 'equals', value: true, points: 15 },
  { name: 'TTFB > 2 s', field: 'assessment.ttfb_ms', op: 'range', min: 2000, points: -10 },
  { name: 'trade', field: 'category', op: 'in', values: ['Plumber', 'electrician'], points: 10 },
  { name: 'email on site', field: 'assessment.emails', op: 'exists', points: 5 },
  { name: 'WordPress', field: 'assessment.generator', op: 'contains', value: 'wordpress', points: 5 },
  { name: 'mid-size', field: 'enrichment.company.employees', op: 'range', min: 10, max: 200, points: 25 },
];
const tiers = { A: 60, B: 40, C: 20 };

describe('score', () => {
  it('adds the points of every matching rule and explains each, in the model order', () => {
    const result = score(rules, tiers, {
      category: 'plumber',
      assessment: {
        https: true,
        viewport: true,
        ttfb_ms: 2500,
        emails: ['a@b.c'],
        generator: 'WordPress 6.5',
      },
      enrichment: { company: { employees: 50 } },
    });
    expect(result.score).toBe(20 + 15 - 10 + 10 + 5 + 5 + 25);
    expect(result.tier).toBe('A');
    expect(result.explain.map((e) => e.reason)).toEqual([
      '+20 HTTPS',
      '+15 mobile viewport',
      '\u221210 TTFB > 2 s',
      '+10 trade',
      '+5 email on site',
      '+5 WordPress',
      '+25 mid-size',
    ]);
  });

  it('matches nothing on missing facts, empty lists or values of another type, and tiers by thresholds', () => {
    expect(score(rules, tiers, {})).toEqual({ score: 0, tier: 'D', explain: [] });
    const subject = {
      assessment: { https: 'true', emails: [], ttfb_ms: '2100' },
      enrichment: { company: { employees: 500 } },
    };
    expect(score(rules, tiers, subject)).toMatchObject({ score: -10, tier: 'D' });
    expect(score(rules, tiers, { assessment: { https: true, viewport: true } }).tier).toBe('C');
    expect(
      score(rules, tiers, { assessment: { https: true, viewport: true }, category: 'Electrician' }),
    ).toMatchObject({
      score: 45,
      tier: 'B',
    });
  });

  it('validates rules naming the field at fault', () => {
    const problems = (body: unknown) =>
      scoringVersionBody.safeParse(body).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(problems({ rules, tiers })).toBeUndefined();
    expect(problems({ rules: [{ name: 'x', field: 'a', op: 'range', points: 1 }], tiers })).toEqual([
      'rules.0.min: a range needs min, max or both',
    ]);
    expect(
      problems({ rules: [{ name: 'x', field: 'a', op: 'range', min: 5, max: 1, points: 1 }], tiers }),
    ).toEqual(['rules.0.min: must not be greater than max']);
    expect(problems({ rules: [{ name: 'x', field: 'a b', op: 'exists', points: 1.5 }], tiers })).toEqual([
      'rules.0.field: must be a dotted path such as assessment.https',
      'rules.0.points: must be a whole number',
    ]);
    expect(problems({ rules: [{ name: 'x', field: 'a', op: 'like', points: 1 }], tiers })?.[0]).toMatch(
      /^rules\.0\.op: op must be one of equals, in, range, exists, contains/,
    );
    expect(problems({ rules: [], tiers: { A: 10, B: 20, C: 0 } })).toEqual(['tiers.A: must not be below B']);
  });
});
