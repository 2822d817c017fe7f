import { contactsList, unwrap, type ContactsListData } from '@herald/api-client';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { client } from '../api/client';
import { Link, usePageTitle } from '../router';
import { words } from '../ui/format';
import { ProblemView, QueryView } from '../ui/states';
import { Time } from '../ui/time';
import { ImportPanel } from './import-panel';

type Status = '' | 'active' | 'unsubscribed' | 'bounced' | 'archived';
interface Filters {
  q: string;
  status: Status;
  tag: string;
}

export function ContactsPage() {
  usePageTitle('Contacts');
  const [form, setForm] = useState<Filters>({ q: '', status: '', tag: '' });
  const [filters, setFilters] = useState<Filters>(form);
  const pages = useInfiniteQuery({
    queryKey: ['contacts', filters],
    queryFn: ({ pageParam }) => {
      const query: NonNullable<ContactsListData['query']> = { limit: '50' };
      if (pageParam) query.cursor = pageParam;
      if (filters.q.trim()) query.q = filters.q.trim();
      if (filters.status) query.status = filters.status;
      if (filters.tag.trim()) query.tag = filters.tag.trim();
      return unwrap(contactsList({ client, query }));
    },
    initialPageParam: '',
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFilters(form);
  };
  return (
    <>
      <h1 tabIndex={-1}>Contacts</h1>
      <form className="filters" role="search" onSubmit={submit}>
        <div className="field">
          <label htmlFor="contact-q">Search</label>
          <input
            id="contact-q"
            type="search"
            placeholder="Name or email"
            value={form.q}
            onChange={(e) => setForm({ ...form, q: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="contact-status">Status</label>
          <select
            id="contact-status"
            value={form.status}
            onChange={(e) => setForm({ ...form, status: e.target.value as Status })}
          >
            <option value="">Any</option>
            <option value="active">Active</option>
            <option value="unsubscribed">Unsubscribed</option>
            <option value="bounced">Bounced</option>
            <option value="archived">Archived</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="contact-tag">Tag</label>
          <input
            id="contact-tag"
            value={form.tag}
            onChange={(e) => setForm({ ...form, tag: e.target.value })}
          />
        </div>
        <button type="submit">Apply</button>
      </form>
      <QueryView
        query={pages}
        label="contacts"
        isEmpty={(d) => d.pages[0]?.data.length === 0}
        empty="No contacts match. Import a CSV below."
      >
        {(data) => (
          <>
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">Contacts</caption>
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Name</th>
                    <th scope="col">Status</th>
                    <th scope="col">Tags</th>
                    <th scope="col">Added</th>
                  </tr>
                </thead>
                <tbody>
                  {data.pages
                    .flatMap((p) => p.data)
                    .map((c) => (
                      <tr key={c.id}>
                        <td>
                          <Link to={`/contacts/${c.id}`}>
                            {c.email ?? c.external_ref ?? c.id.slice(0, 8)}
                          </Link>
                        </td>
                        <td>{[c.first_name, c.last_name].filter(Boolean).join(' ') || '—'}</td>
                        <td>
                          <span className={`pill ${c.status}`}>{words(c.status)}</span>
                        </td>
                        <td>{c.tags.join(', ') || '—'}</td>
                        <td>
                          <Time iso={c.created_at} short />
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
      <ImportPanel />
    </>
  );
}
