import { ApiProblem, contactsGet, interactionsList, unwrap } from '@herald/api-client';
import { useQuery } from '@tanstack/react-query';
import { client } from '../api/client';
import { contactTimeline, type TimelineEntry } from '../api/pending-routes';
import { usePageTitle } from '../router';
import { words } from '../ui/format';
import { QueryView } from '../ui/states';
import { Time } from '../ui/time';

/** A contact and its timeline: interactions, deliveries, and why one was skipped or deferred. */
export function ContactPage({ id }: { id: string }) {
  usePageTitle('Contact');
  const contact = useQuery({
    queryKey: ['contact', id],
    queryFn: () => unwrap(contactsGet({ client, path: { id } })),
  });
  const timeline = useQuery({
    queryKey: ['contact', id, 'timeline'],
    queryFn: async (): Promise<TimelineEntry[]> => {
      try {
        return (await contactTimeline(id)).data;
      } catch (error) {
        // Until the timeline route exists, the interactions alone (sent, failed, replies, bounces).
        if (!(error instanceof ApiProblem && error.status === 404 && !error.problem?.detail?.includes(id)))
          throw error;
        const page = await unwrap(interactionsList({ client, query: { contact_id: id, limit: '100' } }));
        return page.data.map((i) => ({
          at: i.created_at,
          kind: i.type,
          detail: typeof i.payload.subject === 'string' ? i.payload.subject : null,
        }));
      }
    },
  });
  return (
    <>
      <h1 tabIndex={-1}>{contact.data?.email ?? 'Contact'}</h1>
      <QueryView query={contact} label="the contact">
        {(c) => (
          <dl className="facts">
            <div>
              <dt>Name</dt>
              <dd>{[c.first_name, c.last_name].filter(Boolean).join(' ') || '—'}</dd>
            </div>
            <div>
              <dt>Status</dt>
              <dd>{words(c.status)}</dd>
            </div>
            <div>
              <dt>Tags</dt>
              <dd>{c.tags.join(', ') || '—'}</dd>
            </div>
            <div>
              <dt>Time zone</dt>
              <dd>{c.time_zone ?? '—'}</dd>
            </div>
            <div>
              <dt>Birthday</dt>
              <dd>{c.birth_date ?? '—'}</dd>
            </div>
            <div>
              <dt>Added</dt>
              <dd>
                <Time iso={c.created_at} />
              </dd>
            </div>
          </dl>
        )}
      </QueryView>
      <h2>Timeline</h2>
      <QueryView
        query={timeline}
        label="the timeline"
        isEmpty={(d) => d.length === 0}
        empty="Nothing has happened with this contact yet."
      >
        {(entries) => (
          <ol className="timeline">
            {entries.map((e, i) => (
              <li key={`${e.at}:${i}`}>
                <Time iso={e.at} /> — <strong>{words(e.kind)}</strong>
                {e.status && <span className={`pill ${e.status}`}>{words(e.status)}</span>}
                {e.summary && <> {e.summary}</>}
                {(e.reason ?? e.detail) && <div className="muted small">{e.reason ?? e.detail}</div>}
              </li>
            ))}
          </ol>
        )}
      </QueryView>
    </>
  );
}
