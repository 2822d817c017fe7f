import fc from 'fast-check';
import { allocationPoint, pickVariant, type MessageVariant } from './variants';

const base = { subject: 'Base subject', body: 'Base body' };
const uuid = fc.uuid();
const key = fc.record({ contactId: uuid, campaignId: uuid, step: fc.integer({ min: 0, max: 19 }) });
const variantList = fc
  .uniqueArray(fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), { minLength: 2, maxLength: 6 })
  .chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc.record({ name: fc.constant(name), weight: fc.integer({ min: 1, max: 100 }) }),
      ),
    ),
  )
  .map((vs) => vs.map((v): MessageVariant => ({ ...v, subject: `Subject ${v.name}` })));

describe('pickVariant', () => {
  it('a step without variants is rendered as it is, with no variant', () => {
    expect(pickVariant({ ...base, html: true }, { contactId: 'c', campaignId: 'g', step: 0 })).toEqual({
      variant: null,
      content: { ...base, html: true },
    });
  });

  it('is deterministic: the same contact, campaign and step always get the same variant', () => {
    fc.assert(
      fc.property(variantList, key, (variants, k) => {
        const first = pickVariant({ ...base, variants }, k);
        const again = pickVariant({ ...base, variants: variants.map((v) => ({ ...v })) }, { ...k });
        expect(again).toEqual(first);
        expect(variants.map((v) => v.name)).toContain(first.variant);
      }),
    );
  });

  it("renders the chosen variant's subject and body over the step's, without the experiment's fields", () => {
    fc.assert(
      fc.property(variantList, key, (variants, k) => {
        const picked = pickVariant(
          {
            ...base,
            variants,
            experiment: { metric: 'reply', min_sample: 10, confidence: 0.95, auto_promote: false },
          },
          k,
        );
        expect(picked.content).toEqual({ subject: `Subject ${picked.variant}`, body: 'Base body' });
      }),
    );
  });

  it('a promoted variant goes to everyone; an unknown promoted name is ignored', () => {
    fc.assert(
      fc.property(variantList, key, fc.nat(), (variants, k, i) => {
        const promoted = variants[i % variants.length]!.name;
        expect(pickVariant({ ...base, variants }, k, promoted).variant).toBe(promoted);
        expect(pickVariant({ ...base, variants }, k, '\u0000gone').variant).toBe(
          pickVariant({ ...base, variants }, k).variant,
        );
      }),
    );
  });

  it("respects the weights: over many contacts each variant's share is its weight's share", () => {
    fc.assert(
      fc.property(variantList, uuid, (variants, campaignId) => {
        const total = variants.reduce((s, v) => s + v.weight, 0);
        const n = 6000;
        const seen = new Map<string, number>();
        for (let i = 0; i < n; i += 1) {
          const contactId = `00000000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`;
          const { variant } = pickVariant({ ...base, variants }, { contactId, campaignId, step: 0 });
          seen.set(variant!, (seen.get(variant!) ?? 0) + 1);
        }
        for (const v of variants) {
          const expected = v.weight / total;
          // Five standard deviations of a binomial share: a fair allocation never fails this.
          const tolerance = 5 * Math.sqrt((expected * (1 - expected)) / n);
          expect(Math.abs((seen.get(v.name) ?? 0) / n - expected)).toBeLessThanOrEqual(tolerance);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('the allocation point stays inside the total weight', () => {
    fc.assert(
      fc.property(variantList, key, (variants, k) => {
        const point = allocationPoint(k, variants);
        expect(point).toBeGreaterThanOrEqual(0);
        expect(point).toBeLessThan(variants.reduce((s, v) => s + v.weight, 0));
      }),
    );
  });
});
