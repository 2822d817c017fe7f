import type { SourcingRun } from '@herald/api-client';
import { rate, words } from './format';
import { Count } from './count';
import { Time } from './time';

export const SOURCING_LIVE = new Set<SourcingRun['status']>(['queued', 'running', 'paused']);

/** The stages a candidate passes, in order: counts shown in this order, then any other the api adds. */
const STAGES = ['discovered', 'assessed', 'enriched', 'scored', 'handed_off', 'duplicate', 'rejected'];

/** Where a sourcing run stands: its candidates by stage, against its limit, the rate, ETA and why it waits. */
export function SourcingProgress({ run }: { run: SourcingRun }) {
  const found = run.discovered;
  const stages = [...STAGES, ...Object.keys(run.stages).filter((s) => !STAGES.includes(s))];
  return (
    <div className="run-progress">
      <div className="progress-line">
        <progress
          max={Math.max(run.limit, 1)}
          value={Math.min(found, run.limit)}
          aria-label={`Candidates found by run ${run.id.slice(0, 8)}`}
        />
        <span>
          {found} / {run.limit} found{run.exhausted && ' · the search has no more results'}
        </span>
      </div>
      <dl className="counts">
        <Count name="Status" value={words(run.status)} testId="sourcing-status" />
        {stages.map((s) => (
          <Count key={s} name={words(s)} value={run.stages[s] ?? 0} testId={`stage-${s}`} />
        ))}
        <Count name="Requests" value={run.requests_spent} />
        <Count name="Rate" value={rate(run.rate_per_second)} />
      </dl>
      <p className="eta" data-testid="sourcing-eta">
        <EtaLine run={run} />
      </p>
      {run.error && <p className="error-text">Last failure: {run.error}</p>}
    </div>
  );
}

function EtaLine({ run }: { run: SourcingRun }) {
  if (!SOURCING_LIVE.has(run.status)) {
    return (
      <>
        Finished <Time iso={run.finished_at} />
        {run.reason && ` · ${words(run.reason)}`}
      </>
    );
  }
  const why = run.reason ? ` (waiting: ${words(run.reason)})` : '';
  if (run.status === 'paused') return <>Paused{why}</>;
  if (!run.eta) return <>ETA: not yet known{why}</>;
  return (
    <>
      ETA <Time iso={run.eta} /> —{' '}
      {run.eta_reason === 'quota' ? 'quota: the source account’s quota decides' : 'at the current rate'}
      {why}
    </>
  );
}
