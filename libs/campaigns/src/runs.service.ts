import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { uuidv7 } from '@herald/contacts';
import {
  audiencePage,
  DELIVERY_STATUSES,
  OutboxRelay,
  quotaAccountOf,
  renderSubject,
  renderTemplate,
  SenderAccountsRepository,
  sendWindowSpec,
  TemplateError,
  type AudienceSpec,
  type CampaignStep,
  type DeliveryStatus,
} from '@herald/deliveries';
import { queryRows } from '@herald/persistence';
import { QuotaService } from '@herald/rate-limit';
import { HeraldMetrics } from '@herald/telemetry';
import { CLOCK, type Clock, type SendWindowSpec, type WindowUnit } from '@herald/time';
import type { DataSource, EntityManager } from 'typeorm';
import type { Audience, CampaignKind, CampaignStatus, QuotaPolicy, SendWindow } from './campaign-fields';
import { CampaignStateError } from './errors';
import {
  countByDay,
  estimateCompletion,
  localDay,
  planQuota,
  slotsFrom,
  summarise,
  type EtaReason,
  type QuotaPlanInput,
} from './forecast';

export const RUN_STATUSES = ['queued', 'running', 'completed', 'cancelled', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunRecord {
  tenantId: string;
  id: string;
  campaignId: string;
  trigger: 'schedule' | 'manual';
  dryRun: boolean;
  status: RunStatus;
  /** Contacts the run reached (for a dry run: would reach). */
  targeted: number;
  /** Deliveries of the run by status (statuses with none are 0). */
  deliveries: Record<DeliveryStatus, number>;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Every contact of the audience has its ledger row (or the run stopped fanning out). */
  fanoutDone: boolean;
  /** Sends per second over the last minute of the run (or since it started, if less). */
  ratePerSecond: number;
  /** When the last remaining delivery should go out (quota and recent rate); null when unknown or done. */
  eta: Date | null;
  etaReason: EtaReason | null;
  /** A dry run's forecast: who would receive what, and when. Null for real runs. */
  forecast: RunForecast | null;
}

/** A dry run's forecast, as stored in `campaign_runs.forecast`. */
export interface RunForecast {
  /** Contacts the audience matched at the dry run's instant. */
  audience: number;
  /** Contacts that would be sent to: the audience less what is left out below. */
  targeted: number;
  /** Contacts whose delivery key is already in the ledger (a birthday greeted this year). */
  already_sent_keys: number;
  /** Contacts left out: suppressed, beyond the run cap, or without quota room (skip policy, or a 0 limit). */
  skipped: { suppressed: number; run_cap: number; quota: number };
  /** Deliveries per local date of the sender account's zone. */
  by_day: { date: string; count: number }[];
  /** When the last one may go out. */
  finishes_at: string | null;
  summary: string;
  /** What the plan was made from: recipients' due times are recomputed from it, page by page. */
  basis: ForecastBasis;
}

interface ForecastBasis {
  at: string;
  zone: string;
  limits: Partial<Record<WindowUnit, number>>;
  remaining: Partial<Record<WindowUnit, number>>;
  policy: QuotaPolicy;
  send_window: SendWindowSpec | null;
}

/** One contact of a dry run, as the real run would reach it. */
export interface Recipient {
  contactId: string;
  email: string | null;
  deliveryKey: string;
  /** The rendered subject (null when the step has none, or it cannot be rendered). */
  subject: string | null;
  /** Why the message could not be rendered (the real run would fail this delivery). */
  renderError: string | null;
  /** The earliest the quota (and send window) let it go. */
  dueAt: Date | null;
}

/** Where a page of recipients starts: after this contact id, at this position in send order. */
export interface RecipientPosition {
  afterId: string;
  index: number;
}

interface CampaignForRun {
  kind: CampaignKind;
  status: CampaignStatus;
  audience: Audience;
  tenant_zone: string;
  sender_account_id: string;
  send_window: SendWindow | null;
  run_cap: number | null;
  quota_policy: QuotaPolicy;
}

interface RecipientRow {
  id: string;
  delivery_key: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  external_ref: string | null;
  attributes: Record<string, unknown>;
}

interface RunRow {
  tenant_id: string;
  id: string;
  campaign_id: string;
  trigger: RunRecord['trigger'];
  dry_run: boolean;
  status: RunStatus;
  targeted: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  counts: Partial<Record<DeliveryStatus, string | number>> | null;
  fanout_done: boolean;
  forecast: RunForecast | null;
  recent_sent: string;
  running_s: number | null;
}

/** Every contact of an audience, for counting (a page size no tenant reaches). */
const WHOLE_AUDIENCE = 2_147_483_647;

/**
 * Campaign runs: starting one (the run and its fan-out job in one transaction, through the
 * outbox), reading its progress from the ledger, and cancelling it.
 */
@Injectable()
export class RunsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxRelay,
    private readonly accounts: SenderAccountsRepository,
    private readonly quota: QuotaService,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly metrics: HeraldMetrics,
  ) {}

  /**
   * Starts a manual run in the caller's transaction: the `campaign_runs` row and the outbox row
   * of its `runs.fanout` job commit together (call `OutboxRelay.dispatchJob` after commit). A
   * dry run writes no delivery and needs no job: it completes at once with its forecast. Undefined
   * when the campaign is not the tenant's; CampaignStateError when it cannot run now.
   */
  async start(
    manager: EntityManager,
    tenantId: string,
    campaignId: string,
    options: { dryRun: boolean },
  ): Promise<RunRecord | undefined> {
    // Locks the campaign: two concurrent starts see each other's run.
    const [campaign] = await manager.query<CampaignForRun[]>(
      `SELECT g.kind, g.status, g.audience, t.time_zone AS tenant_zone, g.sender_account_id, g.send_window,
              g.run_cap, g.quota_policy
         FROM campaigns g JOIN tenants t ON t.id = g.tenant_id
        WHERE g.tenant_id = $1 AND g.id = $2 FOR UPDATE OF g`,
      [tenantId, campaignId],
    );
    if (!campaign) return undefined;
    if (campaign.status === 'archived') throw new CampaignStateError('This campaign is archived.');
    if (campaign.kind !== 'broadcast' && campaign.kind !== 'birthday') {
      throw new CampaignStateError(
        `A ${campaign.kind} campaign has no runs: it sends to its enrollments (POST /v1/campaigns/${campaignId}/enrollments).`,
      );
    }
    const id = uuidv7();
    if (options.dryRun) {
      const forecast = await this.forecast(manager, tenantId, campaignId, id, campaign);
      await manager.query(
        `INSERT INTO campaign_runs (tenant_id, id, campaign_id, trigger, dry_run, status, targeted, fanout_done, forecast, started_at, finished_at)
         VALUES ($1, $2, $3, 'manual', true, 'completed', $4, true, $5, now(), now())`,
        [tenantId, id, campaignId, forecast.targeted, JSON.stringify(forecast)],
      );
    } else {
      const [active] = await manager.query<{ id: string }[]>(
        `SELECT id FROM campaign_runs
          WHERE tenant_id = $1 AND campaign_id = $2 AND status IN ('queued', 'running') AND NOT dry_run LIMIT 1`,
        [tenantId, campaignId],
      );
      if (active) {
        throw new CampaignStateError(
          `Run ${active.id} of this campaign is still in progress: wait for it or cancel it first.`,
        );
      }
      await manager.query(
        `INSERT INTO campaign_runs (tenant_id, id, campaign_id, trigger, dry_run) VALUES ($1, $2, $3, 'manual', false)`,
        [tenantId, id, campaignId],
      );
      await this.outbox.write(manager, tenantId, 'runs.fanout', { tenant_id: tenantId, run_id: id });
    }
    return this.find(tenantId, id, manager);
  }

  /** The run with its deliveries counted by status; undefined when it is not the tenant's. */
  async find(
    tenantId: string,
    id: string,
    db: Pick<EntityManager, 'query'> = this.dataSource,
  ): Promise<RunRecord | undefined> {
    const rows = await db.query<RunRow[]>(
      `SELECT r.tenant_id, r.id, r.campaign_id, r.trigger, r.dry_run, r.status, r.targeted,
              r.created_at, r.started_at, r.finished_at, r.fanout_done, r.forecast,
              (SELECT json_object_agg(s.status, s.n)
                 FROM (SELECT d.status, count(*) AS n FROM deliveries d
                        WHERE d.tenant_id = r.tenant_id AND d.run_id = r.id GROUP BY d.status) s) AS counts,
              (SELECT count(*) FROM deliveries d
                WHERE d.tenant_id = r.tenant_id AND d.run_id = r.id AND d.sent_at IS NOT NULL
                  AND d.sent_at > now() - interval '1 minute') AS recent_sent,
              extract(epoch FROM now() - r.started_at)::float8 AS running_s
         FROM campaign_runs r
        WHERE r.tenant_id = $1 AND r.id = $2`,
      [tenantId, id],
    );
    const row = rows[0];
    if (!row) return undefined;
    const record = toRecord(row);
    const d = record.deliveries;
    const remaining = d.pending + d.sending + d.deferred;
    if (!record.dryRun && record.status === 'running' && record.fanoutDone && remaining > 0) {
      const nowMs = this.clock.nowMs();
      const plan = await this.quotaPlan(db, tenantId, record.campaignId, remaining, nowMs);
      if (plan) {
        const eta = estimateCompletion({ remaining, nowMs, ratePerSecond: record.ratePerSecond, plan });
        record.eta = eta.etaMs === null ? null : new Date(eta.etaMs);
        record.etaReason = eta.reason;
      }
    }
    return record;
  }

  /**
   * A page of a dry run's recipients, in the order the real run would reach them, computed from
   * the audience as it is now (never materialised: one keyset page of contacts at a time) with
   * each one's rendered subject and due time from the stored forecast. Undefined when the run is
   * not the tenant's; CampaignStateError for a real run (its deliveries are in the ledger).
   */
  async recipients(
    tenantId: string,
    runId: string,
    after: RecipientPosition | null,
    limit: number,
  ): Promise<{ data: Recipient[]; next: RecipientPosition | null } | undefined> {
    const [run] = await this.dataSource.query<
      (CampaignForRun & {
        dry_run: boolean;
        forecast: RunForecast | null;
        campaign_id: string;
        steps: CampaignStep[];
      })[]
    >(
      `SELECT r.dry_run, r.forecast, r.campaign_id, g.kind, g.audience, g.steps, t.time_zone AS tenant_zone
         FROM campaign_runs r
         JOIN campaigns g ON g.tenant_id = r.tenant_id AND g.id = r.campaign_id
         JOIN tenants t ON t.id = r.tenant_id
        WHERE r.tenant_id = $1 AND r.id = $2`,
      [tenantId, runId],
    );
    if (!run) return undefined;
    if (!run.dry_run || !run.forecast)
      throw new CampaignStateError(
        run.dry_run
          ? 'This dry run has no forecast: start a new one.'
          : 'This is a real run: its deliveries are in the ledger, not forecast.',
      );
    const forecast = run.forecast;
    const spec: AudienceSpec = {
      tenantId,
      kind: run.kind,
      audience: run.audience,
      campaignId: run.campaign_id,
      runId,
      tenantZone: run.tenant_zone,
      at: new Date(forecast.basis.at),
    };
    const start = after?.index ?? 0;
    const out: RecipientRow[] = [];
    let cursor = after?.afterId ?? null;
    let exhausted = false;
    while (out.length < limit && start + out.length < forecast.targeted && !exhausted) {
      const want = limit - out.length;
      const page = await this.recipientPage(spec, cursor, want);
      let taken = 0;
      for (const row of page.rows) {
        if (out.length === limit || start + out.length >= forecast.targeted) break;
        out.push(row);
        taken += 1;
      }
      exhausted = page.rawCount < want;
      if (taken === page.rows.length) cursor = page.rawLast ?? cursor;
      else {
        cursor = out.at(-1)!.id;
        exhausted = false;
      }
    }
    const plan = planQuota(planInput(forecast.basis, forecast.targeted));
    const due = slotsFrom(plan, start, out.length);
    const step = run.steps[0];
    const data = out.map((row, i): Recipient => {
      const rendered = renderFor(step, row);
      const at = due[i];
      return {
        contactId: row.id,
        email: row.email,
        deliveryKey: row.delivery_key,
        subject: rendered.subject,
        renderError: rendered.error,
        dueAt: at === null || at === undefined ? null : new Date(at),
      };
    });
    const end = start + out.length;
    const more = out.length === limit && end < forecast.targeted && !exhausted && cursor !== null;
    return { data, next: more ? { afterId: cursor!, index: end } : null };
  }

  /**
   * Cancels a queued or running run: it stops fanning out and its pending and deferred
   * deliveries are cancelled (one being sent right now finishes; the pipeline cancels any that
   * come back). Cancelling a cancelled run is fine; a finished one is a CampaignStateError.
   */
  async cancel(tenantId: string, id: string): Promise<RunRecord | undefined> {
    let cancelled: { kind: string; trigger: string }[] = [];
    const result = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const [run] = await manager.query<{ status: RunStatus }[]>(
        `SELECT status FROM campaign_runs WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
        [tenantId, id],
      );
      if (!run) return undefined;
      if (run.status === 'completed' || run.status === 'failed')
        throw new CampaignStateError(`This run is ${run.status}: there is nothing left to cancel.`);
      cancelled = await cancelRuns(manager, tenantId, [id], 'run cancelled');
      return this.find(tenantId, id, manager);
    });
    countCancelled(this.metrics, cancelled);
    return result;
  }

  /**
   * Who a run would reach now and when: the audience less keys already in the ledger, suppressed
   * contacts, the run cap, then the account's quota windows (from what they hold right now).
   */
  private async forecast(
    manager: EntityManager,
    tenantId: string,
    campaignId: string,
    runId: string,
    campaign: CampaignForRun,
  ): Promise<RunForecast> {
    const nowMs = this.clock.nowMs();
    const spec: AudienceSpec = {
      tenantId,
      kind: campaign.kind,
      audience: campaign.audience,
      campaignId,
      runId,
      tenantZone: campaign.tenant_zone,
      at: new Date(nowMs),
    };
    const page = audiencePage(spec, null, WHOLE_AUDIENCE);
    const t = page.params.length + 1;
    // A broadcast's keys name this run: none can be in the ledger yet.
    const sentBefore =
      campaign.kind === 'birthday'
        ? `EXISTS (SELECT 1 FROM deliveries d WHERE d.tenant_id = $${t} AND d.delivery_key = p.delivery_key)`
        : 'false';
    const [counts] = await manager.query<{ audience: string; already: string; suppressed: string }[]>(
      `WITH raw AS (${page.raw}), page AS (${page.select})
       SELECT count(*) AS audience,
              count(*) FILTER (WHERE k.sent_before) AS already,
              count(*) FILTER (WHERE NOT k.sent_before AND k.suppressed) AS suppressed
         FROM page p
         JOIN contacts c ON c.tenant_id = $${t} AND c.id = p.id
         CROSS JOIN LATERAL (SELECT ${sentBefore} AS sent_before, ${suppressedSql(t)} AS suppressed) k`,
      [...page.params, tenantId],
    );
    const audience = Number(counts?.audience ?? 0);
    const already = Number(counts?.already ?? 0);
    const suppressed = Number(counts?.suppressed ?? 0);
    const eligible = audience - already - suppressed;
    const capped = Math.min(eligible, campaign.run_cap ?? Infinity);
    const basis = await this.basis(tenantId, campaign, nowMs);
    const plan = planQuota(planInput(basis, capped));
    const byDay = countByDay(plan, basis.zone);
    const skipped = { suppressed, run_cap: eligible - capped, quota: plan.unplaced };
    return {
      audience,
      targeted: plan.placed,
      already_sent_keys: already,
      skipped,
      by_day: byDay,
      finishes_at: plan.lastAtMs === null ? null : new Date(plan.lastAtMs).toISOString(),
      summary: summarise({
        targeted: plan.placed,
        byDay,
        today: localDay(basis.zone, nowMs),
        leftOut: {
          'already sent': already,
          suppressed,
          'over the run cap': skipped.run_cap,
          'without quota room': skipped.quota,
        },
      }),
      basis,
    };
  }

  /** The quota plan of `count` deliveries of a campaign from now: its account's windows as they are. */
  private async quotaPlan(
    db: Pick<EntityManager, 'query'>,
    tenantId: string,
    campaignId: string,
    count: number,
    nowMs: number,
  ) {
    const [campaign] = await db.query<CampaignForRun[]>(
      `SELECT g.sender_account_id, g.send_window, g.quota_policy FROM campaigns g WHERE g.tenant_id = $1 AND g.id = $2`,
      [tenantId, campaignId],
    );
    if (!campaign) return undefined;
    // Deferring or not, what is still waiting goes out as windows reset.
    return planQuota(planInput({ ...(await this.basis(tenantId, campaign, nowMs)), policy: 'defer' }, count));
  }

  /** The sender account's windows as they stand at `nowMs`, and the campaign's send window. */
  private async basis(
    tenantId: string,
    campaign: Pick<CampaignForRun, 'sender_account_id' | 'send_window' | 'quota_policy'>,
    nowMs: number,
  ): Promise<ForecastBasis> {
    const account = await this.accounts.find(tenantId, campaign.sender_account_id);
    const zone = account?.timeZone ?? 'UTC';
    const limits: ForecastBasis['limits'] = {};
    const remaining: ForecastBasis['remaining'] = {};
    if (account) {
      for (const w of await this.quota.usage(quotaAccountOf(account))) {
        limits[w.unit] = w.limit;
        remaining[w.unit] = w.remaining;
      }
    }
    return {
      at: new Date(nowMs).toISOString(),
      zone,
      limits,
      remaining,
      policy: campaign.quota_policy,
      send_window: campaign.send_window ? sendWindowSpec(campaign.send_window, zone) : null,
    };
  }

  /** Up to `limit` contacts of the audience after `afterId` that a run would send to, in id order. */
  private async recipientPage(
    spec: AudienceSpec,
    afterId: string | null,
    limit: number,
  ): Promise<{ rows: RecipientRow[]; rawCount: number; rawLast: string | null }> {
    const page = audiencePage(spec, afterId ? { createdAt: new Date(0), id: afterId } : null, limit);
    const t = page.params.length + 1;
    const sentBefore =
      spec.kind === 'birthday'
        ? `AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.tenant_id = $${t} AND d.delivery_key = p.delivery_key)`
        : '';
    const [result] = await this.dataSource.query<
      { raw_n: string; raw_last: string | null; rows: RecipientRow[] | null }[]
    >(
      `WITH raw AS (${page.raw}), page AS (${page.select})
       SELECT (SELECT count(*) FROM raw) AS raw_n,
              (SELECT id FROM raw ORDER BY id DESC LIMIT 1) AS raw_last,
              (SELECT json_agg(x ORDER BY x.id) FROM (
                 SELECT p.id, p.delivery_key, c.email, c.first_name, c.last_name, c.external_ref, c.attributes
                   FROM page p
                   JOIN contacts c ON c.tenant_id = $${t} AND c.id = p.id
                  WHERE NOT ${suppressedSql(t)} ${sentBefore}) x) AS rows`,
      [...page.params, spec.tenantId],
    );
    return {
      rows: result?.rows ?? [],
      rawCount: Number(result?.raw_n ?? 0),
      rawLast: result?.raw_last ?? null,
    };
  }
}

/** Whether contact `c` (row `p` of the page) is suppressed, by id or by email; `$t` is the tenant. */
function suppressedSql(t: number): string {
  return `EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = $${t}
                     AND (s.contact_id = p.id OR (c.email IS NOT NULL AND s.email = c.email)))`;
}

function planInput(basis: ForecastBasis, count: number): QuotaPlanInput {
  return {
    count,
    fromMs: Date.parse(basis.at),
    zone: basis.zone,
    limits: basis.limits,
    remaining: basis.remaining,
    policy: basis.policy,
    ...(basis.send_window ? { sendWindow: basis.send_window } : {}),
  };
}

/** The subject as the pipeline renders it; the body too, only to tell whether it would fail. */
function renderFor(
  step: CampaignStep | undefined,
  row: RecipientRow,
): { subject: string | null; error: string | null } {
  if (!step) return { subject: null, error: 'campaign has no step 0' };
  const variables = {
    first_name: row.first_name,
    last_name: row.last_name,
    email: row.email,
    external_ref: row.external_ref,
    attributes: row.attributes,
  };
  const attempt = (render: () => string): { text: string | null; error: string | null } => {
    try {
      return { text: render(), error: null };
    } catch (error) {
      if (error instanceof TemplateError) return { text: null, error: error.message };
      throw error;
    }
  };
  const subject =
    step.subject !== undefined
      ? attempt(() => renderSubject(step.subject!, variables))
      : { text: null, error: null };
  const body = attempt(() => renderTemplate(step.body, variables, { html: step.html === true }));
  return { subject: subject.text, error: subject.error ?? body.error };
}

/**
 * Marks queued or running runs cancelled, and their deliveries that wait for a send. Returns the
 * runs it cancelled (kind and trigger, for herald_campaign_runs_total once the caller commits).
 */
export async function cancelRuns(
  manager: EntityManager,
  tenantId: string,
  runIds: readonly string[],
  reason: string,
): Promise<{ id: string; kind: string; trigger: string }[]> {
  if (runIds.length === 0) return [];
  const cancelled = queryRows<{ id: string; kind: string; trigger: string }>(
    await manager.query(
      `UPDATE campaign_runs r SET status = 'cancelled', finished_at = now()
         FROM campaigns g
        WHERE r.tenant_id = $1 AND r.id = ANY ($2::uuid[]) AND r.status IN ('queued', 'running')
          AND g.tenant_id = r.tenant_id AND g.id = r.campaign_id
        RETURNING r.id, g.kind, r.trigger`,
      [tenantId, runIds],
    ),
  );
  if (cancelled.length === 0) return [];
  await manager.query(
    `UPDATE deliveries SET status = 'cancelled', last_error = $3, lease_until = NULL, updated_at = now()
      WHERE tenant_id = $1 AND run_id = ANY ($2::uuid[]) AND status IN ('pending', 'deferred')`,
    [tenantId, cancelled.map((r) => r.id), reason],
  );
  return cancelled;
}

/** Counts cancelled runs (after their transaction committed). */
export function countCancelled(
  metrics: HeraldMetrics,
  runs: readonly { kind: string; trigger: string }[],
): void {
  for (const r of runs) metrics.campaignRuns.inc({ kind: r.kind, trigger: r.trigger, outcome: 'cancelled' });
}

function toRecord(row: RunRow): RunRecord {
  const counts = row.counts ?? {};
  const deliveries = Object.fromEntries(DELIVERY_STATUSES.map((s) => [s, Number(counts[s] ?? 0)])) as Record<
    DeliveryStatus,
    number
  >;
  return {
    tenantId: row.tenant_id,
    id: row.id,
    campaignId: row.campaign_id,
    trigger: row.trigger,
    dryRun: row.dry_run,
    status: row.status,
    targeted: row.targeted,
    deliveries,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    fanoutDone: row.fanout_done,
    ratePerSecond: ratePerSecond(Number(row.recent_sent), row.running_s),
    eta: null,
    etaReason: null,
    forecast: row.forecast,
  };
}

/** Sends over the last minute, per second: over the time since the run started when that is shorter. */
function ratePerSecond(recentSent: number, runningSeconds: number | null): number {
  if (recentSent === 0 || runningSeconds === null) return 0;
  return recentSent / Math.min(60, Math.max(1, runningSeconds));
}
