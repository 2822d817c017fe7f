import type { ReactNode } from 'react';
import { contactsGet, contactsTimeline, unwrap, type ContactTimeline } from '@herald/api-client';
import { useQuery } from '@tanstack/react-query';
import { client } from '../api/client';
import { Link, usePageTitle } from '../router';
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
    queryFn: () => unwrap(contactsTimeline({ client, path: { id }, query: { limit: '100' } })),
  });
  return (
    <>
      <h1 tabIndex={-1}>{contact.data?.email ?? 'Contact'}</h1>
      <QueryView query={contact} label="the contact">
        {(c) => (
          <dl className="facts">
            <Fact name="Name">{[c.first_name, c.last_name].filter(Boolean).join(' ') || '—'}</Fact>
            <Fact name="Status">{words(c.status)}</Fact>
            <Fact name="Tags">{c.tags.join(', ') || '—'}</Fact>
            <Fact name="Time zone">{c.time_zone ?? '—'}</Fact>
            <Fact name="Birthday">{c.birth_date ?? '—'}</Fact>
            <Fact name="Added">
              <Time iso={c.created_at} />
            </Fact>
          </dl>
        )}
      </QueryView>
      <h2>Timeline</h2>
      <QueryView
        query={timeline}
        label="the timeline"
        isEmpty={(d) => d.data.length === 0}
        empty="Nothing has happened with this contact yet."
      >
        {(page) => (
          <ol className="timeline">
            {page.data.map((entry) => (
              <TimelineItem key={`${entry.kind}:${entry.id}`} entry={entry} />
            ))}
          </ol>
        )}
      </QueryView>
    </>
  );
}

function Fact({ name, children }: { name: string; children: ReactNode }) {
  return (
    <div>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </div>
  );
}

type Entry = ContactTimeline['data'][number];

/** A delivery (its status and why: skipped, deferred, failed) or an interaction (reply, bounce, note…). */
function TimelineItem({ entry }: { entry: Entry }) {
  const d = entry.delivery;
  const subject = entry.interaction?.payload.subject;
  return (
    <li>
      <Time iso={entry.at} /> —{' '}
      {d ? (
        <>
          <strong>delivery</strong> (step {d.step + 1}, {d.channel}){' '}
          <span className={`pill ${d.status}`}>{words(d.status)}</span>
          {d.run_id && (
            <>
              {' '}
              <Link to={`/runs/${d.run_id}`}>run {d.run_id.slice(0, 8)}</Link>
            </>
          )}
          {d.reason && <div className="muted small">Why: {d.reason}</div>}
          {d.status === 'deferred' && (
            <div className="muted small">
              Due <Time iso={d.due_at} />
            </div>
          )}
        </>
      ) : (
        <>
          <strong>{words(entry.interaction?.type ?? 'interaction')}</strong>
          {typeof subject === 'string' && <div className="muted small">{subject}</div>}
        </>
      )}
    </li>
  );
}
