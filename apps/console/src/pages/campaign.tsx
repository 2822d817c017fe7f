import {
  campaignsCreate,
  campaignsGet,
  campaignsUpdate,
  runsList,
  runsStart,
  senderAccountsList,
  unwrap,
} from '@herald/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { client } from '../api/client';
import { Link, navigate, usePageTitle } from '../router';
import { percent, words } from '../ui/format';
import { ProblemView, QueryView } from '../ui/states';
import { Time } from '../ui/time';
import { CampaignForm } from './campaign-form';
import { createBody, draftOf, emptyDraft, updateBody, type Draft } from './campaign-draft';

/** Create (id null) or edit a campaign; an existing one can be dry-run, started, paused and resumed. */
export function CampaignPage({ id }: { id: string | null }) {
  usePageTitle(id ? 'Campaign' : 'New campaign');
  const senders = useQuery({
    queryKey: ['senders'],
    queryFn: () => unwrap(senderAccountsList({ client, query: { limit: '100' } })),
  });
  const campaign = useQuery({
    queryKey: ['campaign', id],
    queryFn: () => unwrap(campaignsGet({ client, path: { id: id ?? '' } })),
    enabled: id !== null,
  });
  if (id !== null && !campaign.data)
    return (
      <>
        <h1 tabIndex={-1}>Campaign</h1>
        <QueryView query={campaign} label="the campaign">
          {() => null}
        </QueryView>
      </>
    );
  return (
    <Editor
      key={campaign.data?.updated_at ?? 'new'}
      id={id}
      initial={campaign.data ? draftOf(campaign.data) : emptyDraft(senders.data?.data[0]?.id)}
      status={campaign.data?.status}
      senders={senders.data?.data.map((s) => ({ id: s.id, name: s.name })) ?? []}
      sendersError={senders.error}
    />
  );
}

function Editor({
  id,
  initial,
  status,
  senders,
  sendersError,
}: {
  id: string | null;
  initial: Draft;
  status: 'active' | 'paused' | 'archived' | undefined;
  senders: { id: string; name: string }[];
  sendersError: unknown;
}) {
  const [draft, setDraft] = useState<Draft>(initial);
  const [saved, setSaved] = useState(false);
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: async (d: Draft) =>
      id
        ? unwrap(campaignsUpdate({ client, path: { id }, body: updateBody(d) }))
        : unwrap(campaignsCreate({ client, body: createBody(d) })),
    onSuccess: (c) => {
      setSaved(true);
      void queries.invalidateQueries({ queryKey: ['campaigns'] });
      queries.setQueryData(['campaign', c.id], c);
      if (!id) navigate(`/campaigns/${c.id}`, { replace: true });
    },
  });
  const setStatus = useMutation({
    mutationFn: (next: 'active' | 'paused') =>
      unwrap(campaignsUpdate({ client, path: { id: id ?? '' }, body: { status: next } })),
    onSuccess: (c) => queries.setQueryData(['campaign', c.id], c),
  });
  const start = useMutation({
    mutationFn: (dryRun: boolean) =>
      unwrap(
        runsStart({
          client,
          path: { id: id ?? '' },
          body: { dry_run: dryRun },
          headers: { 'Idempotency-Key': crypto.randomUUID() },
        }),
      ),
    onSuccess: (run) => navigate(`/runs/${run.id}`),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    save.mutate(draft);
  };
  return (
    <>
      <div className="title-row">
        <h1 tabIndex={-1}>{id ? initial.name || 'Campaign' : 'New campaign'}</h1>
        {status && <span className={`pill ${status}`}>{words(status)}</span>}
      </div>
      {id && (
        <section aria-labelledby="actions" className="actions">
          <h2 id="actions" className="visually-hidden">
            Actions
          </h2>
          <button
            type="button"
            className="secondary"
            onClick={() => start.mutate(true)}
            disabled={start.isPending}
          >
            Dry run (forecast and preview)
          </button>
          <button type="button" onClick={() => start.mutate(false)} disabled={start.isPending}>
            Start run
          </button>
          {status === 'active' && (
            <button type="button" className="secondary" onClick={() => setStatus.mutate('paused')}>
              Pause campaign
            </button>
          )}
          {status === 'paused' && (
            <button type="button" className="secondary" onClick={() => setStatus.mutate('active')}>
              Resume campaign
            </button>
          )}
          {start.isError && <ProblemView error={start.error} title="Could not start the run" />}
          {setStatus.isError && <ProblemView error={setStatus.error} />}
        </section>
      )}
      {sendersError != null && <ProblemView error={sendersError} title="Could not load sender accounts" />}
      <form onSubmit={submit} className="campaign-form" noValidate>
        <CampaignForm draft={draft} onChange={setDraft} senders={senders} editing={id !== null} />
        <div className="form-actions">
          <button type="submit" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : id ? 'Save changes' : 'Create campaign'}
          </button>
          {saved && !save.isPending && (
            <span role="status" className="ok">
              Saved.
            </span>
          )}
        </div>
        {save.isError && <ProblemView error={save.error} title="Could not save the campaign" />}
      </form>
      {id && <CampaignRuns id={id} />}
    </>
  );
}

function CampaignRuns({ id }: { id: string }) {
  const runs = useQuery({
    queryKey: ['runs', 'campaign', id],
    queryFn: () => unwrap(runsList({ client, query: { campaign_id: id, limit: '20' } })),
    refetchInterval: 5_000,
  });
  return (
    <section aria-labelledby="runs-heading">
      <h2 id="runs-heading">Runs</h2>
      <QueryView query={runs} label="runs" isEmpty={(d) => d.data.length === 0} empty="No runs yet.">
        {(page) => (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Status</th>
                  <th scope="col">Progress</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {page.data.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Link to={`/runs/${r.id}`}>
                        {r.dry_run ? 'Dry run' : 'Run'} {r.id.slice(0, 8)}
                      </Link>
                    </td>
                    <td>{words(r.status)}</td>
                    <td>{percent(r.progress.ratio)}</td>
                    <td>
                      <Time iso={r.created_at} short />
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
