import {
  sourcingRunsApproveCandidates,
  sourcingRunsCandidates,
  sourcingRunsRejectCandidates,
  unwrap,
  type Candidate,
  type CandidateDecisions,
  type SourcingRun,
  type SourcingRunsCandidatesData,
} from '@herald/api-client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { client } from '../api/client';
import { Link } from '../router';
import { explainLines, words } from '../ui/format';
import { SOURCING_LIVE } from '../ui/sourcing-progress';
import { ProblemView, QueryView } from '../ui/states';

type Query = NonNullable<SourcingRunsCandidatesData['query']>;
type Stage = NonNullable<Query['stage']> | '';
type Tier = NonNullable<Query['tier']> | '';
const STAGES: Stage[] = [
  '',
  'discovered',
  'duplicate',
  'assessed',
  'enriched',
  'scored',
  'handed_off',
  'rejected',
];
const TIERS: Tier[] = ['', 'A', 'B', 'C', 'D'];
const PAGE = 25;

/** A held candidate waits for a person: only those can be approved or rejected from here. */
const decidable = (c: Candidate) => c.held && c.stage !== 'handed_off' && c.stage !== 'rejected';

/** A run's candidates in keyset pages, by stage and tier; held ones approved or rejected in bulk. */
export function CandidatesSection({ run }: { run: SourcingRun }) {
  const queries = useQueryClient();
  const [stage, setStage] = useState<Stage>('');
  const [tier, setTier] = useState<Tier>('');
  // The cursors of the pages before this one: the api pages forward only.
  const [cursors, setCursors] = useState<string[]>(['']);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const cursor = cursors[cursors.length - 1] ?? '';
  const candidates = useQuery({
    // The run's status in the key: the page polls while it goes, and reads once more when it ends.
    queryKey: ['sourcing-run', run.id, 'candidates', run.status, stage, tier, cursor],
    queryFn: () => {
      const query: Query = { limit: String(PAGE) };
      if (stage) query.stage = stage;
      if (tier) query.tier = tier;
      if (cursor) query.cursor = cursor;
      return unwrap(sourcingRunsCandidates({ client, path: { id: run.id }, query }));
    },
    refetchInterval: SOURCING_LIVE.has(run.status) ? 3_000 : false,
  });
  const refilter = (next: () => void) => {
    next();
    setCursors(['']);
    setSelected(new Set());
  };
  const decide = useMutation({
    mutationFn: ({ approve, ids }: { approve: boolean; ids: string[] }) =>
      unwrap(
        approve
          ? sourcingRunsApproveCandidates({ client, path: { id: run.id }, body: { candidate_ids: ids } })
          : sourcingRunsRejectCandidates({
              client,
              path: { id: run.id },
              body: { candidate_ids: ids, reason: 'rejected in the console' },
            }),
      ),
    onSuccess: () => {
      setSelected(new Set());
      void queries.invalidateQueries({ queryKey: ['sourcing-run', run.id] });
    },
  });
  const toggle = (id: string) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const ids = [...selected];
  return (
    <section aria-labelledby="candidates">
      <h2 id="candidates">Candidates</h2>
      <div className="filters">
        <div className="field">
          <label htmlFor="candidate-stage">Stage</label>
          <select
            id="candidate-stage"
            value={stage}
            onChange={(e) => refilter(() => setStage(e.target.value as Stage))}
          >
            {STAGES.map((s) => (
              <option key={s} value={s}>
                {s === '' ? 'Any' : words(s)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="candidate-tier">Tier</label>
          <select
            id="candidate-tier"
            value={tier}
            onChange={(e) => refilter(() => setTier(e.target.value as Tier))}
          >
            {TIERS.map((t) => (
              <option key={t} value={t}>
                {t === '' ? 'Any' : t}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="actions">
        <button
          type="button"
          disabled={ids.length === 0 || decide.isPending}
          onClick={() => decide.mutate({ approve: true, ids })}
        >
          Approve selected ({ids.length})
        </button>
        <button
          type="button"
          className="danger"
          disabled={ids.length === 0 || decide.isPending}
          onClick={() => decide.mutate({ approve: false, ids })}
        >
          Reject selected ({ids.length})
        </button>
      </div>
      {decide.isError && <ProblemView error={decide.error} title="Could not decide on the candidates" />}
      {decide.data && <Decisions result={decide.data} />}
      <QueryView
        query={candidates}
        label="candidates"
        isEmpty={(d) => d.data.length === 0 && cursors.length === 1}
        empty="No candidates with that stage and tier."
      >
        {(page) => (
          <>
            <div className="table-wrap">
              <table aria-label="Candidates">
                <thead>
                  <tr>
                    <th scope="col">Select</th>
                    <th scope="col">Lead</th>
                    <th scope="col">Stage</th>
                    <th scope="col">Tier</th>
                    <th scope="col">Score</th>
                    <th scope="col">Why this score</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((c) => (
                    <CandidateRow
                      key={c.id}
                      candidate={c}
                      checked={selected.has(c.id)}
                      onToggle={() => toggle(c.id)}
                    />
                  ))}
                </tbody>
              </table>
            </div>
            <div className="actions">
              <button
                type="button"
                className="secondary"
                disabled={cursors.length === 1}
                onClick={() => setCursors((c) => c.slice(0, -1))}
              >
                Previous page
              </button>
              <span className="muted small">Page {cursors.length}</span>
              <button
                type="button"
                className="secondary"
                disabled={!page.next_cursor}
                onClick={() => page.next_cursor && setCursors((c) => [...c, page.next_cursor ?? ''])}
              >
                Next page
              </button>
            </div>
          </>
        )}
      </QueryView>
    </section>
  );
}

function CandidateRow({
  candidate: c,
  checked,
  onToggle,
}: {
  candidate: Candidate;
  checked: boolean;
  onToggle: () => void;
}) {
  const name = c.name ?? c.email ?? c.website_domain ?? c.id.slice(0, 8);
  const lines = explainLines(c.explain);
  return (
    <tr>
      <td>
        {decidable(c) ? (
          <input type="checkbox" aria-label={`Select ${name}`} checked={checked} onChange={onToggle} />
        ) : (
          <span className="muted small">—</span>
        )}
      </td>
      <th scope="row">
        {c.contact_id ? <Link to={`/contacts/${c.contact_id}`}>{name}</Link> : name}
        <div className="muted small">
          {[c.email, c.website_domain, c.category].filter(Boolean).join(' · ')}
        </div>
      </th>
      <td>
        <span className={`pill ${c.stage}`}>{words(c.stage)}</span>
        {c.held && decidable(c) && <span className="pill held">held</span>}
        {c.reason && <div className="muted small">{words(c.reason)}</div>}
      </td>
      <td>{c.tier ?? '—'}</td>
      <td>{c.score ?? '—'}</td>
      <td>
        {lines.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <ul className="explain">
            {lines.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}

function Decisions({ result }: { result: CandidateDecisions }) {
  const handedOff = result.done.filter((d) => d.stage === 'handed_off').length;
  const rejected = result.done.length - handedOff;
  return (
    <div className="ok" role="status" data-testid="decisions">
      <p>
        {handedOff > 0 && `Handed off ${handedOff}. `}
        {rejected > 0 && `Rejected ${rejected}. `}
        {result.skipped.length > 0 &&
          `Left as they were: ${result.skipped.map((s) => `${s.id.slice(0, 8)} (${words(s.reason)})`).join(', ')}.`}
      </p>
    </div>
  );
}
