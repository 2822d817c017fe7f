import {
  scoringModelsGet,
  sourcingJobsGet,
  sourcingRunsCancel,
  sourcingRunsGet,
  sourcingRunsPause,
  sourcingRunsRequalifyCandidates,
  sourcingRunsResume,
  unwrap,
  type SourcingRun,
} from '@herald/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { client } from '../api/client';
import { Link, usePageTitle } from '../router';
import { SOURCING_LIVE, SourcingProgress } from '../ui/sourcing-progress';
import { ProblemView, QueryView } from '../ui/states';
import { Time } from '../ui/time';
import { CandidatesSection } from './candidates';

type Action = 'pause' | 'resume' | 'cancel';
const ACTIONS = { pause: sourcingRunsPause, resume: sourcingRunsResume, cancel: sourcingRunsCancel };

/** A run that qualifies its candidates, or a completed one (reopened): the only ones a requalify takes. */
function canRequalify(r: SourcingRun): boolean {
  return r.not_qualified > 0 && !r.dry_run && r.status !== 'cancelled' && r.status !== 'failed';
}

/**
 * One sourcing run: live progress by stage, pause / resume / cancel, requalifying the candidates
 * the beat closed as not qualified, its candidates.
 */
export function SourcingRunPage({ id }: { id: string }) {
  usePageTitle('Sourcing run');
  const queries = useQueryClient();
  const run = useQuery({
    queryKey: ['sourcing-run', id],
    queryFn: () => unwrap(sourcingRunsGet({ client, path: { id } })),
    refetchInterval: (q) => (q.state.data && !SOURCING_LIVE.has(q.state.data.status) ? false : 1_000),
  });
  const jobId = run.data?.job_id;
  const job = useQuery({
    queryKey: ['sourcing-job', jobId],
    queryFn: () => unwrap(sourcingJobsGet({ client, path: { id: jobId ?? '' } })),
    enabled: jobId !== undefined,
  });
  const modelId = run.data?.scoring_model_id;
  const model = useQuery({
    queryKey: ['scoring-model', modelId],
    queryFn: () => unwrap(scoringModelsGet({ client, path: { id: modelId ?? '' } })),
    enabled: modelId !== undefined,
  });
  const act = useMutation({
    mutationFn: (action: Action) => unwrap(ACTIONS[action]({ client, path: { id } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['sourcing-run', id] }),
  });
  // Without ids: every candidate of the run closed as not qualified.
  const requalify = useMutation({
    mutationFn: () => unwrap(sourcingRunsRequalifyCandidates({ client, path: { id }, body: {} })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['sourcing-run', id] }),
  });
  return (
    <>
      <h1 tabIndex={-1}>Sourcing run</h1>
      <QueryView query={run} label="the sourcing run">
        {(r) => (
          <>
            <p>
              Job <Link to="/leads">{job.data?.name ?? r.job_id.slice(0, 8)}</Link> ·{' '}
              {r.trigger === 'schedule'
                ? 'scheduled'
                : r.trigger === 'rescore'
                  ? 'rescore'
                  : 'started by hand'}{' '}
              <Time iso={r.created_at} /> · scored with {model.data?.name ?? 'model'} v
              {r.scoring_model_version}
              {r.dry_run && ' · dry run'}
            </p>
            <SourcingProgress run={r} />
            <div className="actions">
              {(r.status === 'running' || r.status === 'queued') && (
                <button
                  type="button"
                  className="secondary"
                  onClick={() => act.mutate('pause')}
                  disabled={act.isPending}
                >
                  Pause run
                </button>
              )}
              {(r.status === 'paused' || r.status === 'failed') && (
                <button type="button" onClick={() => act.mutate('resume')} disabled={act.isPending}>
                  Resume run
                </button>
              )}
              {(SOURCING_LIVE.has(r.status) || r.status === 'failed') && (
                <button
                  type="button"
                  className="danger"
                  onClick={() => act.mutate('cancel')}
                  disabled={act.isPending}
                >
                  Cancel run
                </button>
              )}
              {canRequalify(r) && (
                <button
                  type="button"
                  className="secondary"
                  onClick={() => requalify.mutate()}
                  disabled={requalify.isPending}
                  title="Their qualify job kept failing or was lost: qualify them again from where they stopped"
                >
                  Requalify {r.not_qualified} not qualified
                </button>
              )}
            </div>
            {act.isError && <ProblemView error={act.error} title="Could not change the run" />}
            {requalify.isError && (
              <ProblemView error={requalify.error} title="Could not requalify the candidates" />
            )}
            {requalify.data && (
              <p className="ok" role="status" data-testid="requalified">
                Requalified {requalify.data.requalified.length}; the run is {requalify.data.status}.
              </p>
            )}
            <CandidatesSection run={r} />
          </>
        )}
      </QueryView>
    </>
  );
}
