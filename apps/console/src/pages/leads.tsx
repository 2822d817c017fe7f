import {
  sourceAccountsCircuit,
  sourceAccountsList,
  sourceAccountsPause,
  sourceAccountsQuota,
  sourceAccountsResume,
  sourcingJobsList,
  sourcingJobsStartRun,
  sourcingRunsList,
  unwrap,
  type SourceAccount,
  type SourcingJob,
} from '@herald/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { client } from '../api/client';
import { Link, navigate, usePageTitle } from '../router';
import { words } from '../ui/format';
import { CircuitLine } from '../ui/circuit';
import { QuotaGauges } from '../ui/quota-gauges';
import { SOURCING_LIVE } from '../ui/sourcing-progress';
import { ProblemView, QueryView } from '../ui/states';
import { Time } from '../ui/time';

/** The lead pipeline: source accounts (quotas, status), sourcing jobs with their latest run. */
export function LeadsPage() {
  usePageTitle('Leads');
  const accounts = useQuery({
    queryKey: ['source-accounts'],
    queryFn: () => unwrap(sourceAccountsList({ client, query: { limit: '100' } })),
  });
  const jobs = useQuery({
    queryKey: ['sourcing-jobs'],
    queryFn: () => unwrap(sourcingJobsList({ client, query: { limit: '100', status: 'active' } })),
  });
  const accountName = (id: string) => accounts.data?.data.find((a) => a.id === id)?.name ?? id.slice(0, 8);
  return (
    <>
      <h1 tabIndex={-1}>Leads</h1>
      <section aria-labelledby="sourcing-jobs">
        <h2 id="sourcing-jobs">Sourcing jobs</h2>
        <QueryView
          query={jobs}
          label="sourcing jobs"
          isEmpty={(d) => d.data.length === 0}
          empty="No sourcing jobs yet: create one with POST /v1/sourcing-jobs or the herald CLI."
        >
          {(page) => (
            <ul className="cards">
              {page.data.map((job) => (
                <JobCard key={job.id} job={job} account={accountName(job.source_account_id)} />
              ))}
            </ul>
          )}
        </QueryView>
      </section>
      <section aria-labelledby="source-accounts">
        <h2 id="source-accounts">Source accounts</h2>
        <QueryView
          query={accounts}
          label="source accounts"
          isEmpty={(d) => d.data.length === 0}
          empty="No source accounts yet."
        >
          {(page) => (
            <ul className="cards">
              {page.data.map((a) => (
                <SourceAccountCard key={a.id} account={a} />
              ))}
            </ul>
          )}
        </QueryView>
      </section>
    </>
  );
}

function JobCard({ job, account }: { job: SourcingJob; account: string }) {
  const queries = useQueryClient();
  const latest = useQuery({
    queryKey: ['sourcing-runs', 'latest', job.id],
    queryFn: () => unwrap(sourcingRunsList({ client, query: { job_id: job.id, limit: '1' } })),
    refetchInterval: (q) => {
      const run = q.state.data?.data[0];
      return run && SOURCING_LIVE.has(run.status) ? 2_000 : false;
    },
  });
  const start = useMutation({
    mutationFn: () =>
      unwrap(
        sourcingJobsStartRun({
          client,
          path: { id: job.id },
          body: {},
          headers: { 'Idempotency-Key': crypto.randomUUID() },
        }),
      ),
    onSuccess: (run) => {
      void queries.invalidateQueries({ queryKey: ['sourcing-runs'] });
      navigate(`/leads/runs/${run.id}`);
    },
  });
  const run = latest.data?.data[0];
  return (
    <li className="card">
      <h3>{job.name}</h3>
      <p className="muted small">
        From {account} · limit {job.limit} · {criteriaText(job.criteria)}
        {job.schedule && ' · scheduled'}
      </p>
      <p className="muted small">Hand-off: {handoffText(job.handoff)}</p>
      <QueryView
        query={latest}
        label="the latest run"
        isEmpty={(d) => d.data.length === 0}
        empty="Never run."
      >
        {() =>
          run && (
            <p>
              Latest run: <Link to={`/leads/runs/${run.id}`}>{run.id.slice(0, 8)}</Link>{' '}
              <span className={`pill ${run.status}`}>{words(run.status)}</span> · {run.discovered} found ·
              started <Time iso={run.started_at ?? run.created_at} short />
              {SOURCING_LIVE.has(run.status) && run.reason && <> · waiting: {words(run.reason)}</>}
            </p>
          )
        }
      </QueryView>
      <button
        type="button"
        disabled={start.isPending || (run !== undefined && SOURCING_LIVE.has(run.status))}
        onClick={() => start.mutate()}
      >
        {`Start a run of ${job.name}`}
      </button>
      {start.isError && <ProblemView error={start.error} title="Could not start the run" />}
    </li>
  );
}

function SourceAccountCard({ account }: { account: SourceAccount }) {
  const queries = useQueryClient();
  const quota = useQuery({
    queryKey: ['source-account', account.id, 'quota'],
    queryFn: () => unwrap(sourceAccountsQuota({ client, path: { id: account.id } })),
    refetchInterval: 10_000,
  });
  const circuit = useQuery({
    queryKey: ['source-account', account.id, 'circuit'],
    queryFn: () => unwrap(sourceAccountsCircuit({ client, path: { id: account.id } })),
    refetchInterval: 5_000,
  });
  const pause = useMutation({
    mutationFn: (paused: boolean) =>
      unwrap(
        paused
          ? sourceAccountsPause({ client, path: { id: account.id } })
          : sourceAccountsResume({ client, path: { id: account.id } }),
      ),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['source-accounts'] }),
  });
  return (
    <li className="card">
      <h3>
        {account.name} <span className={`pill ${account.status}`}>{words(account.status)}</span>
      </h3>
      <p className="muted small">
        {account.kind} · {account.time_zone}
      </p>
      <QuotaGauges
        query={quota}
        name={account.name}
        empty="No quota: this account is asked without a limit."
      />
      <CircuitLine query={circuit} />
      {account.status !== 'disabled' && (
        <button
          type="button"
          className="secondary"
          disabled={pause.isPending}
          onClick={() => pause.mutate(account.status === 'active')}
        >
          {account.status === 'active' ? `Pause ${account.name}` : `Resume ${account.name}`}
        </button>
      )}
      {pause.isError && <ProblemView error={pause.error} title="Could not change the account" />}
    </li>
  );
}

/** `{category: "bakery", city: "Lyon"}` → "category bakery, city Lyon". */
function criteriaText(criteria: Record<string, unknown>): string {
  const parts = Object.entries(criteria).map(([k, v]) => `${words(k)} ${String(v)}`);
  return parts.length ? parts.join(', ') : 'no criteria';
}

/** `{A: {action: "enroll"}, B: {action: "hold"}}` → "A enroll, B hold". */
function handoffText(handoff: Record<string, unknown>): string {
  const parts = Object.entries(handoff).map(([tier, rule]) => {
    const action = (rule as { action?: unknown } | null)?.action;
    return `${tier} ${typeof action === 'string' ? action : '?'}`;
  });
  return parts.length ? parts.join(', ') : 'every tier held';
}
