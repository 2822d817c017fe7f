import {
  analyticsCampaign,
  experimentsList,
  unwrap,
  type CampaignAnalytics,
  type Experiment,
} from '@herald/api-client';
import { useQuery } from '@tanstack/react-query';
import { client } from '../api/client';
import { percent } from '../ui/format';
import { QueryView } from '../ui/states';
import { Time } from '../ui/time';
import type { Range } from './analytics';

type Row = CampaignAnalytics['rows'][number];
const COLUMNS = ['targeted', 'sent', 'delivered', 'opened', 'clicked', 'replied', 'converted'] as const;

/** One campaign over the range: counts per step and per A/B variant, and each step's experiment. */
export function CampaignAnalyticsSection({ campaignId, range }: { campaignId: string; range: Range }) {
  const byStep = useQuery({
    queryKey: ['analytics', 'campaign', campaignId, 'step', range],
    queryFn: () =>
      unwrap(analyticsCampaign({ client, path: { id: campaignId }, query: { by: 'step', ...range } })),
  });
  const byVariant = useQuery({
    queryKey: ['analytics', 'campaign', campaignId, 'variant', range],
    queryFn: () =>
      unwrap(analyticsCampaign({ client, path: { id: campaignId }, query: { by: 'variant', ...range } })),
  });
  const experiments = useQuery({
    queryKey: ['experiments', campaignId],
    queryFn: () => unwrap(experimentsList({ client, path: { id: campaignId } })),
  });
  return (
    <>
      <QueryView
        query={byStep}
        label="the steps"
        isEmpty={(d) => !d.rows.some(counted)}
        empty="Nothing counted for this campaign in the range."
      >
        {(a) => (
          <CountsTable
            caption="By step"
            head="Step"
            rows={a.rows}
            name={(r) => (r.step === null || r.step === undefined ? 'none' : `Step ${r.step + 1}`)}
            totals={a.totals}
          />
        )}
      </QueryView>
      <QueryView
        query={byVariant}
        label="the variants"
        isEmpty={(d) => !d.rows.some(counted)}
        empty="No variants counted."
      >
        {(a) => (
          <CountsTable
            caption="By variant"
            head="Variant"
            rows={a.rows}
            name={(r) => r.variant ?? 'no variant'}
            totals={a.totals}
          />
        )}
      </QueryView>
      <h3>Experiments</h3>
      <QueryView
        query={experiments}
        label="experiments"
        isEmpty={(d) => d.data.length === 0}
        empty="This campaign runs no A/B test."
      >
        {(list) => list.data.map((e) => <ExperimentView key={e.step} experiment={e} />)}
      </QueryView>
    </>
  );
}

/** A group whose counts moved elsewhere (a delivery's variant set at render) nets to zero: nothing to show. */
const counted = (r: Row) => COLUMNS.some((c) => r[c] !== 0) || r.bounced + r.unsubscribed + r.complained > 0;

function CountsTable({
  caption,
  head,
  rows,
  name,
  totals,
}: {
  caption: string;
  head: string;
  rows: Row[];
  name: (row: Row) => string;
  totals: CampaignAnalytics['totals'];
}) {
  return (
    <div className="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{head}</th>
            {COLUMNS.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
            <th scope="col">reply rate</th>
          </tr>
        </thead>
        <tbody>
          {rows.filter(counted).map((r) => (
            <tr key={name(r)}>
              <th scope="row">{name(r)}</th>
              {COLUMNS.map((c) => (
                <td key={c}>{r[c]}</td>
              ))}
              <td>{r.sent > 0 ? percent(r.replied / r.sent) : '—'}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">All</th>
            {COLUMNS.map((c) => (
              <td key={c}>{totals[c]}</td>
            ))}
            <td>{totals.sent > 0 ? percent(totals.replied / totals.sent) : '—'}</td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

function ExperimentView({ experiment: e }: { experiment: Experiment }) {
  return (
    <div className="card" data-testid={`experiment-step-${e.step + 1}`}>
      <h4>
        Step {e.step + 1}: {e.metric} rate, {percent(e.confidence)} confidence, at least {e.min_sample} sends
        per variant
      </h4>
      <p>
        {e.winner ? (
          <>
            Winner: <strong>{e.winner}</strong> (called <Time iso={e.decided_at} />)
          </>
        ) : (
          <>
            No winner yet{e.pending ? `: ${e.pending}` : ''}
            {e.leader ? ` · leading: ${e.leader}` : ''}
          </>
        )}
        {e.promoted && (
          <>
            {' '}
            · {e.promoted.variant} promoted ({e.promoted.by}) <Time iso={e.promoted.at} short />
          </>
        )}
      </p>
      <div className="table-wrap">
        <table>
          <caption>Variants of step {e.step + 1}</caption>
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col">Weight</th>
              <th scope="col">Sent</th>
              <th scope="col">{e.metric} rate</th>
              <th scope="col">p (vs leader)</th>
            </tr>
          </thead>
          <tbody>
            {e.variants.map((v) => (
              <tr key={v.name}>
                <th scope="row">{v.name}</th>
                <td>{v.weight}</td>
                <td>{v.sent}</td>
                <td>{v.rate === null ? '—' : percent(v.rate)}</td>
                <td>{v.p === null ? (v.name === e.leader ? 'leader' : '—') : v.p.toFixed(3)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
