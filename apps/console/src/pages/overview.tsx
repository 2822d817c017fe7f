import { campaignsList, runsList, unwrap } from '@herald/api-client';
import { useQuery } from '@tanstack/react-query';
import { client } from '../api/client';
import { Link, usePageTitle } from '../router';
import { RunProgress } from '../ui/run-progress';
import { QueryView } from '../ui/states';
import { Time } from '../ui/time';

/** Runs in flight, polled every two seconds while the page is open. */
export function OverviewPage() {
  usePageTitle('Overview');
  const runs = useQuery({
    queryKey: ['runs', 'live'],
    queryFn: async () => {
      const [queued, running] = await Promise.all([
        unwrap(runsList({ client, query: { status: 'queued', limit: '50' } })),
        unwrap(runsList({ client, query: { status: 'running', limit: '50' } })),
      ]);
      return [...running.data, ...queued.data];
    },
    refetchInterval: 2_000,
  });
  const campaigns = useQuery({
    queryKey: ['campaigns', 'names'],
    queryFn: () => unwrap(campaignsList({ client, query: { limit: '100' } })),
  });
  const nameOf = (id: string) => campaigns.data?.data.find((c) => c.id === id)?.name ?? id.slice(0, 8);
  return (
    <>
      <h1 tabIndex={-1}>Overview</h1>
      <h2>Runs in flight</h2>
      <QueryView
        query={runs}
        label="runs"
        isEmpty={(d) => d.length === 0}
        empty={
          <>
            No run is going. Start one from a <Link to="/campaigns">campaign</Link>.
          </>
        }
      >
        {(list) => (
          <ul className="cards">
            {list.map((run) => (
              <li key={run.id} className="card">
                <h3>
                  <Link to={`/runs/${run.id}`}>{nameOf(run.campaign_id)}</Link>{' '}
                  <span className="muted small">
                    {run.dry_run ? 'dry run' : 'run'} started{' '}
                    <Time iso={run.started_at ?? run.created_at} short />
                  </span>
                </h3>
                <RunProgress run={run} />
              </li>
            ))}
          </ul>
        )}
      </QueryView>
    </>
  );
}
