import { campaignsList, unwrap } from '@herald/api-client';
import { useInfiniteQuery } from '@tanstack/react-query';
import { client } from '../api/client';
import { Link, usePageTitle } from '../router';
import { words } from '../ui/format';
import { ProblemView, QueryView } from '../ui/states';
import { Time } from '../ui/time';

export function CampaignsPage() {
  usePageTitle('Campaigns');
  const pages = useInfiniteQuery({
    queryKey: ['campaigns', 'list'],
    queryFn: ({ pageParam }) =>
      unwrap(campaignsList({ client, query: { limit: '50', ...(pageParam ? { cursor: pageParam } : {}) } })),
    initialPageParam: '',
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  return (
    <>
      <div className="title-row">
        <h1 tabIndex={-1}>Campaigns</h1>
        <Link to="/campaigns/new" className="button">
          New campaign
        </Link>
      </div>
      <QueryView
        query={pages}
        label="campaigns"
        isEmpty={(d) => d.pages[0]?.data.length === 0}
        empty="No campaigns yet: create the first one."
      >
        {(data) => (
          <>
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">Campaigns</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Status</th>
                    <th scope="col">Schedule</th>
                    <th scope="col">Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {data.pages
                    .flatMap((p) => p.data)
                    .map((c) => (
                      <tr key={c.id}>
                        <td>
                          <Link to={`/campaigns/${c.id}`}>{c.name}</Link>
                        </td>
                        <td>{c.kind}</td>
                        <td>
                          <span className={`pill ${c.status}`}>{words(c.status)}</span>
                        </td>
                        <td>{c.schedule ? `daily at ${c.schedule.at}` : 'manual'}</td>
                        <td>
                          <Time iso={c.updated_at} short />
                        </td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
            {pages.hasNextPage && (
              <button
                type="button"
                onClick={() => void pages.fetchNextPage()}
                disabled={pages.isFetchingNextPage}
              >
                Load more
              </button>
            )}
            {pages.isFetchNextPageError && <ProblemView error={pages.error} />}
          </>
        )}
      </QueryView>
    </>
  );
}
