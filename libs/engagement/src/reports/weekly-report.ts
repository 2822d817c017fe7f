import { queryRows } from '@herald/persistence';
import type { EntityManager } from 'typeorm';
import { campaignExperiments } from '../experiments/experiment-results';
import { weekBounds, weekDates } from './iso-week';

export interface Funnel {
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  replied: number;
  converted: number;
  unsubscribed: number;
}

export interface ReportExperiment {
  step: number;
  metric: string;
  leader: string | null;
  winner: string | null;
  promoted: string | null;
  variants: { name: string; sent: number; rate: number | null; p: number | null }[];
}

export interface ReportCampaign {
  id: string;
  name: string;
  funnel: Funnel;
  experiments: ReportExperiment[];
}

export interface AccountDeliverability {
  sender_account_id: string;
  name: string;
  sent: number;
  bounced: number;
  complained: number;
  bounce_rate: number | null;
  complaint_rate: number | null;
}

/** A tenant's week, as the API, the email and the webhook give it (snake_case). */
export interface WeeklyReport {
  tenant_id: string;
  tenant_name: string;
  week: string;
  time_zone: string;
  from: string;
  to: string;
  totals: Funnel & { bounced: number; complained: number };
  daily: { date: string; sent: number; replied: number; clicked: number }[];
  campaigns: ReportCampaign[];
  deliverability: AccountDeliverability[];
}

const FUNNEL_KINDS = ['delivered', 'opened', 'clicked', 'replied', 'converted', 'unsubscribed'] as const;

const emptyFunnel = (): Funnel => ({
  sent: 0,
  delivered: 0,
  opened: 0,
  clicked: 0,
  replied: 0,
  converted: 0,
  unsubscribed: 0,
});

const rate = (part: number, whole: number) => (whole > 0 ? part / whole : null);

/**
 * Builds a tenant's weekly report from the ledger (sends) and engagement events (what followed)
 * over the ISO week in the tenant's zone: each campaign's funnel with its experiments (their
 * state now), deliverability per sender account, and the week day by day for the chart.
 * Events count once per delivery (a contact clicking twice is one click); machine events
 * (prefetchers) are left out. Undefined when the tenant or the week does not exist.
 */
export async function buildWeeklyReport(
  db: Pick<EntityManager, 'query'>,
  tenantId: string,
  week: string,
): Promise<WeeklyReport | undefined> {
  const [tenant] = await db.query<{ name: string; time_zone: string }[]>(
    `SELECT name, time_zone FROM tenants WHERE id = $1`,
    [tenantId],
  );
  if (!tenant) return undefined;
  const bounds = weekBounds(week, tenant.time_zone);
  if (!bounds) return undefined;
  const range = [tenantId, bounds.from.toISOString(), bounds.to.toISOString()];

  const sends = queryRows<{ campaign_id: string; sender_account_id: string; day: string; n: string }>(
    await db.query(
      `SELECT campaign_id, sender_account_id, to_char(sent_at AT TIME ZONE $4, 'YYYY-MM-DD') AS day, count(*) AS n
         FROM deliveries
        WHERE tenant_id = $1 AND status = 'sent' AND sent_at >= $2 AND sent_at < $3
        GROUP BY 1, 2, 3`,
      [...range, tenant.time_zone],
    ),
  );
  const events = queryRows<{
    campaign_id: string | null;
    sender_account_id: string | null;
    kind: string;
    day: string;
    n: string;
  }>(
    await db.query(
      `SELECT campaign_id, sender_account_id, kind, to_char(occurred_at AT TIME ZONE $4, 'YYYY-MM-DD') AS day,
              count(DISTINCT coalesce(delivery_id::text, id::text)) AS n
         FROM engagement_events
        WHERE tenant_id = $1 AND occurred_at >= $2 AND occurred_at < $3 AND NOT machine
        GROUP BY 1, 2, 3, 4`,
      [...range, tenant.time_zone],
    ),
  );

  const campaignIds = [
    ...new Set([
      ...sends.map((s) => s.campaign_id),
      ...events.flatMap((e) => (e.campaign_id ? [e.campaign_id] : [])),
    ]),
  ];
  const accountIds = [
    ...new Set([
      ...sends.map((s) => s.sender_account_id),
      ...events.flatMap((e) => (e.sender_account_id ? [e.sender_account_id] : [])),
    ]),
  ];
  const names = new Map(
    (
      await db.query<{ id: string; name: string }[]>(
        `SELECT id, name FROM campaigns WHERE tenant_id = $1 AND id = ANY($2::uuid[])
         UNION ALL
         SELECT id, name FROM sender_accounts WHERE tenant_id = $1 AND id = ANY($3::uuid[])`,
        [tenantId, campaignIds, accountIds],
      )
    ).map((r) => [r.id, r.name]),
  );

  const totals = { ...emptyFunnel(), bounced: 0, complained: 0 };
  const byCampaign = new Map(campaignIds.map((id) => [id, emptyFunnel()]));
  const byAccount = new Map(accountIds.map((id) => [id, { sent: 0, bounced: 0, complained: 0 }]));
  const daily = new Map(
    weekDates(week, tenant.time_zone).map((date) => [date, { date, sent: 0, replied: 0, clicked: 0 }]),
  );
  for (const s of sends) {
    const n = Number(s.n);
    totals.sent += n;
    byCampaign.get(s.campaign_id)!.sent += n;
    byAccount.get(s.sender_account_id)!.sent += n;
    const day = daily.get(s.day);
    if (day) day.sent += n;
  }
  for (const e of events) {
    const n = Number(e.n);
    const kind = e.kind as keyof typeof totals;
    if (kind in totals && kind !== 'sent') totals[kind] += n;
    const funnel = e.campaign_id ? byCampaign.get(e.campaign_id) : undefined;
    if (funnel && (FUNNEL_KINDS as readonly string[]).includes(e.kind)) funnel[e.kind as keyof Funnel] += n;
    const account = e.sender_account_id ? byAccount.get(e.sender_account_id) : undefined;
    if (account && (e.kind === 'bounced' || e.kind === 'complained')) account[e.kind] += n;
    const day = daily.get(e.day);
    if (day && (e.kind === 'replied' || e.kind === 'clicked')) day[e.kind] += n;
  }

  const campaigns: ReportCampaign[] = [];
  for (const id of campaignIds) {
    const experiments = await campaignExperiments(db, tenantId, id);
    campaigns.push({
      id,
      name: names.get(id) ?? '(deleted campaign)',
      funnel: byCampaign.get(id)!,
      experiments: experiments.map((x) => ({
        step: x.step,
        metric: x.settings.metric,
        leader: x.verdict.leader,
        winner: x.decision.winner ?? x.verdict.winner,
        promoted: x.decision.promotedVariant,
        variants: x.verdict.variants.map((v) => ({ name: v.variant, sent: v.sent, rate: v.rate, p: v.p })),
      })),
    });
  }
  campaigns.sort((a, b) => b.funnel.sent - a.funnel.sent || a.name.localeCompare(b.name));

  return {
    tenant_id: tenantId,
    tenant_name: tenant.name,
    week,
    time_zone: tenant.time_zone,
    from: bounds.from.toISOString(),
    to: bounds.to.toISOString(),
    totals,
    daily: [...daily.values()],
    campaigns,
    deliverability: [...byAccount.entries()]
      .map(([id, a]) => ({
        sender_account_id: id,
        name: names.get(id) ?? '(deleted account)',
        ...a,
        bounce_rate: rate(a.bounced, a.sent),
        complaint_rate: rate(a.complained, a.sent),
      }))
      .sort((a, b) => b.sent - a.sent || a.name.localeCompare(b.name)),
  };
}
