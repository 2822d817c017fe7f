import type { Run } from '@herald/api-client';
import { percent, rate, words } from './format';
import { Count } from './count';
import { Time } from './time';

export const LIVE = new Set<Run['status']>(['queued', 'running']);

/** Where a run stands: progress, what was sent, held back or failed, its rate and ETA with the reason. */
export function RunProgress({ run }: { run: Run }) {
  const { counts, progress } = run;
  const label = `Progress of run ${run.id.slice(0, 8)}`;
  return (
    <div className="run-progress">
      <div className="progress-line">
        <progress max={Math.max(progress.total, 1)} value={progress.done} aria-label={label} />
        <span>
          {progress.done} / {progress.total} ({percent(progress.ratio)})
          {!progress.fanout_done && ' · still fanning out'}
        </span>
      </div>
      <dl className="counts">
        <Count name="Status" value={words(run.status)} testId="run-status" />
        <Count name="Sent" value={counts.sent} testId="count-sent" />
        <Count name="Deferred" value={counts.deferred} testId="count-deferred" />
        <Count name="Failed" value={counts.failed} testId="count-failed" />
        <Count name="Skipped" value={counts.skipped} />
        <Count name="Pending" value={counts.pending} />
        <Count name="Cancelled" value={counts.cancelled} />
        <Count name="Rate" value={rate(run.rate_per_second)} />
      </dl>
      <p className="eta" data-testid="run-eta">
        <EtaLine run={run} />
      </p>
    </div>
  );
}

function EtaLine({ run }: { run: Run }) {
  if (!LIVE.has(run.status)) {
    return (
      <>
        Finished <Time iso={run.finished_at} />
      </>
    );
  }
  if (!run.eta) return <>ETA: not yet known</>;
  if (run.eta_reason === 'quota')
    return (
      <>
        ETA <Time iso={run.eta} /> — quota: held back until the sender&apos;s quota resets
      </>
    );
  return (
    <>
      ETA <Time iso={run.eta} /> — at the current rate
    </>
  );
}
