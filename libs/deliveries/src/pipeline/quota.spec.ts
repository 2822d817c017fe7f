import type { BatchReserveResult, QuotaService, Reservation, ReservationRef } from '@herald/rate-limit';
import { BatchDecisions } from './decisions';
import { QuotaStage } from './quota';
import { context, ready, recordingStep } from './testing-fakes';

type Quota = Pick<QuotaService, 'reserveBatch' | 'commitMany' | 'refundMany'>;

const granted = (id: string): Reservation => ({
  id,
  accountId: 't1:a1',
  units: 1,
  backend: 'redis',
  reservedAt: 0,
});

function quota(answer: (ids: readonly string[]) => BatchReserveResult, settled: string[] = []): Quota {
  return {
    reserveBatch: ({ reservationIds }) => Promise.resolve(answer(reservationIds)),
    commitMany: (refs: readonly ReservationRef[]) => {
      settled.push(...refs.map((r) => `commit ${r.id}`));
      return Promise.resolve(refs.map(() => 'committed' as const));
    },
    refundMany: (refs: readonly ReservationRef[]) => {
      settled.push(...refs.map((r) => `refund ${r.id}`));
      return Promise.resolve(
        refs.map((_, i) => (i === 0 ? ('unavailable' as const) : ('refunded' as const))),
      );
    },
  };
}

const prefix =
  (n: number, denial?: BatchReserveResult['denial']) =>
  (ids: readonly string[]): BatchReserveResult => ({
    admitted: ids.slice(0, n).map(granted),
    replayed: [],
    denied: ids.slice(n),
    conflicts: [],
    ...(denial ? { denial } : {}),
  });

describe('quota stage', () => {
  it('reserves a group in one call and passes on those admitted, with their reservation', async () => {
    const steps: string[] = [];
    const stage = new QuotaStage(quota(prefix(2)), recordingStep(steps), () => undefined);
    const admitted = await stage.reserve([ready('d1'), ready('d2')], new BatchDecisions());
    expect(steps).toEqual(['quota reserve']);
    expect(admitted.map((r) => [r.ctx.id, r.reservation?.id.startsWith(`${r.ctx.id}:`)])).toEqual([
      ['d1', true],
      ['d2', true],
    ]);
  });

  it('defers past an exhausted window where the campaign defers, and skips where it skips', async () => {
    const denial = { reason: 'quota' as const, retryAt: 5000, exhausted: ['hour' as const] };
    const decisions = new BatchDecisions();
    const skipping = context({ id: 'd3' });
    await new QuotaStage(quota(prefix(1, denial)), recordingStep(), () => undefined).reserve(
      [
        ready('d1'),
        ready('d2'),
        ready('d3', { ctx: { ...skipping, campaign: { ...skipping.campaign, quotaPolicy: 'skip' } } }),
      ],
      decisions,
    );
    expect(decisions.deferred).toEqual([
      { tenantId: 't1', id: 'd2', dueAt: new Date(5000), reason: 'quota exhausted (hour)' },
    ]);
    expect(decisions.outcomes.get('d2')).toEqual({ kind: 'delay', until: 5000, reason: 'quota exhausted' });
    expect(decisions.skipped).toEqual([{ tenantId: 't1', id: 'd3', reason: 'quota exhausted' }]);
  });

  it('skips past a run cap, and only waits when Postgres could not lease units (not a quota decision)', async () => {
    const decisions = new BatchDecisions();
    const capped = context({ id: 'd1' });
    const asked: unknown[] = [];
    const q = quota(prefix(0, { reason: 'run_cap' }));
    await new QuotaStage(
      { ...q, reserveBatch: (request) => (asked.push(request.runCap), q.reserveBatch(request)) },
      recordingStep(),
      () => undefined,
    ).reserve([ready('d1', { ctx: { ...capped, campaign: { ...capped.campaign, runCap: 10 } } })], decisions);
    expect(asked).toEqual([{ runId: 'r1', limit: 10 }]);
    expect(decisions.skipped).toEqual([{ tenantId: 't1', id: 'd1', reason: 'run cap reached' }]);

    const waiting = new BatchDecisions();
    await new QuotaStage(
      quota(prefix(0, { reason: 'unavailable', retryAt: 7000, cause: 'pg down' })),
      recordingStep(),
      () => undefined,
    ).reserve([ready('d2')], waiting);
    expect(waiting.outcomes.get('d2')).toEqual({ kind: 'delay', until: 7000, reason: 'quota unavailable' });
    expect(waiting.skipped).toEqual([]);
    expect(waiting.deferred).toEqual([]);
  });

  it('settles a batch in one call per action and leaves what it cannot settle to the beat, logged', async () => {
    const settled: string[] = [];
    const warnings: Record<string, unknown>[] = [];
    const stage = new QuotaStage(quota(prefix(0), settled), recordingStep(), (_m, details) =>
      warnings.push(details),
    );
    await stage.settle('commit', [granted('a'), granted('b')]);
    await stage.settle('refund', [granted('c'), granted('d')]);
    await stage.settle('commit', []);
    expect(settled).toEqual(['commit a', 'commit b', 'refund c', 'refund d']);
    expect(warnings).toEqual([{ action: 'refund', count: 1 }]);
  });
});
