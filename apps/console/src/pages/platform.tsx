import {
  adminCircuits,
  adminFailedJobs,
  adminQueues,
  adminRetryFailed,
  adminWorkers,
  tenantsList,
  unwrap,
  type QueueDepths,
} from '@herald/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { client } from '../api/client';
import { usePageTitle } from '../router';
import { words } from '../ui/format';
import { ProblemView, QueryView } from '../ui/states';
import { Time } from '../ui/time';

/** A queue's name, as the API lists them. */
type QueueName = QueueDepths['data'][number]['name'];

const STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting_children',
  'failed',
  'completed',
] as const;

/** The fleet: tenants, queues by state, workers and their heartbeats, circuits, failed jobs with retry. */
export function PlatformPage() {
  usePageTitle('Platform');
  const queries = useQueryClient();
  const queues = useQuery({
    queryKey: ['queues'],
    queryFn: () => unwrap(adminQueues({ client })),
    refetchInterval: 3_000,
  });
  const workers = useQuery({
    queryKey: ['workers'],
    queryFn: () => unwrap(adminWorkers({ client })),
    refetchInterval: 3_000,
  });
  const tenants = useQuery({
    queryKey: ['tenants'],
    queryFn: () => unwrap(tenantsList({ client, query: { limit: '200' } })),
  });
  const circuits = useQuery({
    queryKey: ['circuits'],
    queryFn: () => unwrap(adminCircuits({ client })),
    refetchInterval: 5_000,
  });
  const retry = useMutation({
    mutationFn: (name: QueueName) => unwrap(adminRetryFailed({ client, path: { name } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['queues'] }),
  });
  return (
    <>
      <h1 tabIndex={-1}>Platform</h1>
      <section aria-labelledby="queues-heading">
        <h2 id="queues-heading">Queues</h2>
        <QueryView query={queues} label="queues" isEmpty={(d) => d.data.length === 0}>
          {(q) => (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Queue</th>
                    {STATES.map((s) => (
                      <th scope="col" key={s}>
                        {words(s)}
                      </th>
                    ))}
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {q.data.map((queue) => (
                    <tr key={queue.name}>
                      <th scope="row">{queue.name}</th>
                      {STATES.map((s) => (
                        <td key={s}>{queue.counts[s]}</td>
                      ))}
                      <td>
                        {queue.counts.failed > 0 && (
                          <button
                            type="button"
                            className="secondary"
                            onClick={() => retry.mutate(queue.name)}
                            disabled={retry.isPending}
                          >
                            Retry failed {queue.name} jobs
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
        {retry.isError && <ProblemView error={retry.error} title="Could not retry" />}
        {retry.data && (
          <p role="status">
            Retried {retry.data.retried} {retry.data.queue} jobs.
          </p>
        )}
      </section>
      {queues.data?.data
        .filter((q) => q.counts.failed > 0)
        .map((q) => (
          <FailedJobs key={q.name} queue={q.name} />
        ))}
      <section aria-labelledby="workers-heading">
        <h2 id="workers-heading">Workers</h2>
        <QueryView
          query={workers}
          label="workers"
          isEmpty={(d) => d.data.length === 0}
          empty="No worker has sent a heartbeat."
        >
          {(w) => (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Worker</th>
                    <th scope="col">Host</th>
                    <th scope="col">Queues</th>
                    <th scope="col">Last heartbeat</th>
                  </tr>
                </thead>
                <tbody>
                  {w.data.map((worker) => (
                    <tr key={worker.id}>
                      <td>
                        {worker.id} <span className="muted small">v{worker.version}</span>
                      </td>
                      <td>
                        {worker.host} (pid {worker.pid})
                      </td>
                      <td>
                        {worker.queues
                          .map((q) => (worker.concurrency[q] ? `${q} ×${worker.concurrency[q]}` : q))
                          .join(', ')}
                      </td>
                      <td>
                        <Time iso={worker.last_seen_at} short />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
      </section>
      <section aria-labelledby="circuits-heading">
        <h2 id="circuits-heading">Circuits</h2>
        <QueryView
          query={circuits}
          label="circuits"
          isEmpty={(d) => d.data.length === 0}
          empty="Every circuit is closed."
        >
          {(c) => (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Account</th>
                    <th scope="col">Channel or kind</th>
                    <th scope="col">State</th>
                    <th scope="col">Failures</th>
                    <th scope="col">Open until</th>
                  </tr>
                </thead>
                <tbody>
                  {c.data.map((circuit) => (
                    <tr key={circuit.key}>
                      {circuit.account_type === 'sender' ? (
                        <>
                          <td>Sender {circuit.sender_account_id.slice(0, 8)}</td>
                          <td>{circuit.channel}</td>
                        </>
                      ) : (
                        <>
                          <td>Source {circuit.source_account_id.slice(0, 8)}</td>
                          <td>{circuit.kind}</td>
                        </>
                      )}
                      <td>
                        <span className={`pill ${circuit.state}`}>{words(circuit.state)}</span>
                      </td>
                      <td>{circuit.failures}</td>
                      <td>
                        <Time iso={circuit.open_until} short />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
      </section>
      <section aria-labelledby="tenants-heading">
        <h2 id="tenants-heading">Tenants</h2>
        <QueryView
          query={tenants}
          label="tenants"
          isEmpty={(d) => d.data.length === 0}
          empty="No tenants yet."
        >
          {(t) => (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Time zone</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {t.data.map((tenant) => (
                    <tr key={tenant.id}>
                      <td>{tenant.name}</td>
                      <td>{tenant.time_zone}</td>
                      <td>
                        <Time iso={tenant.created_at} short />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
      </section>
    </>
  );
}

/** The newest failed jobs of one queue, with why they failed. */
function FailedJobs({ queue }: { queue: QueueName }) {
  const jobs = useQuery({
    queryKey: ['failed', queue],
    queryFn: () => unwrap(adminFailedJobs({ client, path: { name: queue }, query: { limit: '20' } })),
    refetchInterval: 5_000,
  });
  return (
    <section aria-labelledby={`failed-${queue}`}>
      <h2 id={`failed-${queue}`}>Failed {queue} jobs</h2>
      <QueryView query={jobs} label="failed jobs" isEmpty={(d) => d.data.length === 0} empty="None left.">
        {(page) => (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Why it failed</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Failed</th>
                </tr>
              </thead>
              <tbody>
                {page.data.map((job, i) => (
                  <tr key={job.id ?? i}>
                    <td>
                      {job.name} <span className="muted small">{job.id}</span>
                    </td>
                    <td>{job.failed_reason ?? '—'}</td>
                    <td>{job.attempts_made}</td>
                    <td>
                      <Time iso={job.failed_at} short />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {page.total > page.data.length && (
              <p className="muted small">
                {page.data.length} of {page.total} shown.
              </p>
            )}
          </div>
        )}
      </QueryView>
    </section>
  );
}
