import { analyticsFunnel, campaignsList, unwrap, type Funnel } from '@herald/api-client';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { client } from '../api/client';
import { usePageTitle } from '../router';
import { lastDays } from '../ui/dates';
import { money, percent } from '../ui/format';
import { QueryView } from '../ui/states';
import { useZone } from '../ui/time';
import { CampaignAnalyticsSection } from './campaign-analytics';

export interface Range {
  from: string;
  to: string;
}

/** The tenant's funnel over a range of local days, and one campaign's steps, variants and experiments. */
export function AnalyticsPage() {
  usePageTitle('Analytics');
  const zone = useZone();
  const [form, setForm] = useState<Range>(() => lastDays(30, zone));
  const [range, setRange] = useState<Range>(form);
  const [campaignId, setCampaignId] = useState('');
  const funnel = useQuery({
    queryKey: ['analytics', 'funnel', range],
    queryFn: () => unwrap(analyticsFunnel({ client, query: range })),
  });
  const campaigns = useQuery({
    queryKey: ['campaigns', 'names'],
    queryFn: () => unwrap(campaignsList({ client, query: { limit: '100' } })),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setRange(form);
  };
  return (
    <>
      <h1 tabIndex={-1}>Analytics</h1>
      <form className="filters" onSubmit={submit} aria-label="Date range">
        <div className="field">
          <label htmlFor="range-from">From</label>
          <input
            id="range-from"
            type="date"
            value={form.from}
            required
            onChange={(e) => setForm({ ...form, from: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="range-to">To</label>
          <input
            id="range-to"
            type="date"
            value={form.to}
            required
            onChange={(e) => setForm({ ...form, to: e.target.value })}
          />
        </div>
        <button type="submit">Apply</button>
      </form>
      <section aria-labelledby="funnel">
        <h2 id="funnel">Funnel</h2>
        <p className="muted small">
          Local days {range.from} to {range.to} ({zone}), every campaign.
        </p>
        <QueryView query={funnel} label="the funnel">
          {(f) => <FunnelView funnel={f} />}
        </QueryView>
      </section>
      <section aria-labelledby="by-campaign">
        <h2 id="by-campaign">By campaign</h2>
        <div className="field inline">
          <label htmlFor="analytics-campaign">Campaign</label>
          <select id="analytics-campaign" value={campaignId} onChange={(e) => setCampaignId(e.target.value)}>
            <option value="">Choose a campaign</option>
            {campaigns.data?.data.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        {campaignId && <CampaignAnalyticsSection campaignId={campaignId} range={range} key={campaignId} />}
      </section>
    </>
  );
}

const STAGES: { key: keyof Funnel; label: string }[] = [
  { key: 'sourced', label: 'Sourced' },
  { key: 'contacts', label: 'Became contacts' },
  { key: 'sent', label: 'Sent' },
  { key: 'delivered', label: 'Delivered' },
  { key: 'replied', label: 'Replied' },
  { key: 'converted', label: 'Converted' },
];

function FunnelView({ funnel }: { funnel: Funnel }) {
  // A stage the api reports as null (no sourcing with a campaign filter) is not shown.
  const stages = STAGES.flatMap(({ key, label }) => {
    const value = funnel[key];
    return typeof value === 'number' ? [{ key, label, value }] : [];
  });
  const revenue = Object.entries(funnel.revenue);
  return (
    <>
      <ol className="funnel" aria-label="Funnel stages">
        {stages.map((s, i) => {
          const before = stages[i - 1]?.value;
          return (
            <li key={s.key} data-testid={`funnel-${s.key}`}>
              <span>{s.label}</span>
              <strong>{s.value}</strong>
              {before !== undefined && before > 0 && (
                <span className="muted small">{percent(s.value / before)} of the stage before</span>
              )}
            </li>
          );
        })}
      </ol>
      <p data-testid="funnel-revenue">
        Revenue:{' '}
        {revenue.length === 0
          ? 'none'
          : revenue.map(([currency, amount]) => money(amount, currency)).join(', ')}
      </p>
    </>
  );
}
