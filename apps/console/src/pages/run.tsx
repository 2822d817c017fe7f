import {
  campaignsGet,
  runsCancel,
  runsDeliveries,
  runsGet,
  runsRecipients,
  unwrap,
  type Run,
} from '@herald/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { client } from '../api/client';
import { Link, usePageTitle } from '../router';
import { DayChart } from '../ui/day-chart';
import { words } from '../ui/format';
import { LIVE, RunProgress } from '../ui/run-progress';
import { ProblemView, QueryView } from '../ui/states';
import { Time } from '../ui/time';

/** One run: live counts while it goes, its forecast and recipients (dry run), its deliveries by status. */
export function RunPage({ id }: { id: string }) {
  usePageTitle('Run');
  const queries = useQueryClient();
  const run = useQuery({
    queryKey: ['run', id],
    queryFn: () => unwrap(runsGet({ client, path: { id } })),
    refetchInterval: (q) => (q.state.data && !LIVE.has(q.state.data.status) ? false : 1_000),
  });
  const campaignId = run.data?.campaign_id;
  const campaign = useQuery({
    queryKey: ['campaign', campaignId],
    queryFn: () => unwrap(campaignsGet({ client, path: { id: campaignId ?? '' } })),
    enabled: campaignId !== undefined,
  });
  const cancel = useMutation({
    mutationFn: () => unwrap(runsCancel({ client, path: { id } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ['run', id] }),
  });
  return (
    <>
      <h1 tabIndex={-1}>{run.data?.dry_run ? 'Dry run' : 'Run'}</h1>
      <QueryView query={run} label="the run">
        {(r) => (
          <>
            <p>
              Campaign{' '}
              <Link to={`/campaigns/${r.campaign_id}`}>
                {campaign.data?.name ?? r.campaign_id.slice(0, 8)}
              </Link>{' '}
              · {r.trigger === 'schedule' ? 'scheduled' : 'started by hand'} <Time iso={r.created_at} />
            </p>
            {r.dry_run ? (
              <p>
                Status: <strong data-testid="run-status">{words(r.status)}</strong> — a dry run sends nothing;
                it forecasts who a real run would reach, and when.
              </p>
            ) : (
              <RunProgress run={r} />
            )}
            {LIVE.has(r.status) && (
              <button
                type="button"
                className="danger"
                onClick={() => cancel.mutate()}
                disabled={cancel.isPending}
              >
                {cancel.isPending ? 'Cancelling…' : 'Cancel run'}
              </button>
            )}
            {cancel.isError && <ProblemView error={cancel.error} title="Could not cancel" />}
            {r.forecast && (
              <section aria-labelledby="forecast">
                <h2 id="forecast">Forecast</h2>
                <p>{r.forecast.summary}</p>
                <DayChart days={r.forecast.by_day} caption="Deliveries by day" />
                <p className="muted small">
                  Audience {r.forecast.audience}, targeted {r.forecast.targeted}; skipped:{' '}
                  {r.forecast.skipped.suppressed} suppressed, {r.forecast.skipped.run_cap} over the run cap,{' '}
                  {r.forecast.skipped.quota} over quota.
                  {r.forecast.finishes_at && (
                    <>
                      {' '}
                      Finishes <Time iso={r.forecast.finishes_at} />.
                    </>
                  )}
                </p>
              </section>
            )}
            {r.dry_run ? <Recipients run={r} /> : <Deliveries run={r} />}
          </>
        )}
      </QueryView>
    </>
  );
}

function Recipients({ run }: { run: Run }) {
  const recipients = useQuery({
    queryKey: ['run', run.id, 'recipients'],
    queryFn: () => unwrap(runsRecipients({ client, path: { id: run.id }, query: { limit: '25' } })),
    enabled: !LIVE.has(run.status),
  });
  return (
    <section aria-labelledby="recipients">
      <h2 id="recipients">Recipients and message preview</h2>
      {LIVE.has(run.status) ? (
        <p className="loading">The preview is ready once the dry run finishes.</p>
      ) : (
        <QueryView
          query={recipients}
          label="recipients"
          isEmpty={(d) => d.data.length === 0}
          empty="Nobody would be reached."
        >
          {(page) => (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Contact</th>
                    <th scope="col">Subject as rendered for them</th>
                    <th scope="col">Due</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((p) => (
                    <tr key={p.delivery_key}>
                      <td>
                        <Link to={`/contacts/${p.contact_id}`}>{p.email ?? p.contact_id.slice(0, 8)}</Link>
                      </td>
                      <td>
                        {p.render_error ? (
                          <span className="error-text">Cannot render: {p.render_error}</span>
                        ) : (
                          p.subject
                        )}
                      </td>
                      <td>
                        <Time iso={p.due_at} short />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
      )}
    </section>
  );
}

const STATUSES = ['', 'sent', 'deferred', 'failed', 'skipped', 'pending', 'cancelled', 'unknown'] as const;

function Deliveries({ run }: { run: Run }) {
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('');
  const deliveries = useQuery({
    queryKey: ['run', run.id, 'deliveries', status],
    queryFn: () => unwrap(runsDeliveries({ client, path: { id: run.id }, query: status ? { status } : {} })),
    refetchInterval: LIVE.has(run.status) ? 3_000 : false,
  });
  return (
    <section aria-labelledby="deliveries">
      <h2 id="deliveries">Deliveries</h2>
      <div className="field inline">
        <label htmlFor="delivery-status">Status</label>
        <select
          id="delivery-status"
          value={status}
          onChange={(e) => setStatus(e.target.value as typeof status)}
        >
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s === '' ? 'Any' : s}
            </option>
          ))}
        </select>
      </div>
      <QueryView
        query={deliveries}
        label="deliveries"
        isEmpty={(d) => d.data.length === 0}
        empty="No deliveries with that status."
      >
        {(page) => (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Contact</th>
                  <th scope="col">Status</th>
                  <th scope="col">Why</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {page.data.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <Link to={`/contacts/${d.contact_id}`}>{d.contact_id.slice(0, 8)}</Link>
                    </td>
                    <td>
                      <span className={`pill ${d.status}`}>{words(d.status)}</span>
                    </td>
                    <td>{d.last_error ?? '—'}</td>
                    <td>{d.attempts}</td>
                    <td>
                      <Time iso={d.updated_at} short />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
    </section>
  );
}
