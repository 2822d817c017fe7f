import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  audiencePage,
  MessageRenderer,
  pickVariant,
  type AudienceSpec,
  type MessageContent,
  type MessageSender,
} from '@herald/deliveries';
import type { DataSource } from 'typeorm';
import type { CampaignStep } from '../campaign-step';
import { CampaignStateError } from '../errors';
import { planQuota, slotsFrom } from '../forecast';
import { planInput } from './quota-basis';
import type { CampaignForRun, RunForecast } from './run-forecast';
import { suppressedSql } from './suppressed-sql';

/** One contact of a dry run, as the real run would reach it. */
export interface Recipient {
  contactId: string;
  email: string | null;
  deliveryKey: string;
  /** The rendered subject (null when the step has none, or it cannot be rendered). */
  subject: string | null;
  /** The A/B/n variant the contact would get (null without variants). */
  variant: string | null;
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

interface RecipientRow {
  id: string;
  delivery_key: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  external_ref: string | null;
  attributes: Record<string, unknown>;
}

/**
 * A dry run's recipients, in the order the real run would reach them, each with its message
 * rendered by the pipeline's own renderer and its due time from the stored forecast.
 */
@Injectable()
export class RunPreview {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly renderer: MessageRenderer,
  ) {}

  /**
   * A page of a dry run's recipients, computed from the audience as it is now (never
   * materialised: one keyset page of contacts at a time). Undefined when the run is not the
   * tenant's; CampaignStateError for a real run (its deliveries are in the ledger).
   */
  async recipients(
    tenantId: string,
    runId: string,
    after: RecipientPosition | null,
    limit: number,
  ): Promise<{ data: Recipient[]; next: RecipientPosition | null } | undefined> {
    const [run] = await this.dataSource.query<
      (Pick<CampaignForRun, 'kind' | 'audience' | 'tenant_zone' | 'sender_account_id'> & {
        dry_run: boolean;
        forecast: RunForecast | null;
        campaign_id: string;
        steps: CampaignStep[];
        channel: string | null;
        promoted_variant: string | null;
      })[]
    >(
      `SELECT r.dry_run, r.forecast, r.campaign_id, g.kind, g.audience, g.steps, t.time_zone AS tenant_zone,
              g.sender_account_id, s.channel, x.promoted_variant
         FROM campaign_runs r
         JOIN campaigns g ON g.tenant_id = r.tenant_id AND g.id = r.campaign_id
         JOIN tenants t ON t.id = r.tenant_id
         LEFT JOIN sender_accounts s ON s.tenant_id = g.tenant_id AND s.id = g.sender_account_id
         LEFT JOIN campaign_experiments x ON x.tenant_id = g.tenant_id AND x.campaign_id = g.id AND x.step = 0
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
    const sender: MessageSender = { id: run.sender_account_id, channel: run.channel ?? '' };
    const data = out.map((row, i): Recipient => {
      // The variant the send would pick for this contact (the same hash, the same promotion).
      const picked = run.steps[0]
        ? pickVariant(
            run.steps[0],
            { contactId: row.id, campaignId: run.campaign_id, step: 0 },
            run.promoted_variant,
          )
        : null;
      const rendered = this.render(picked?.content, row, sender);
      const at = due[i];
      return {
        contactId: row.id,
        email: row.email,
        deliveryKey: row.delivery_key,
        subject: rendered.subject,
        variant: picked?.variant ?? null,
        renderError: rendered.error,
        dueAt: at === null || at === undefined ? null : new Date(at),
      };
    });
    const end = start + out.length;
    const more = out.length === limit && end < forecast.targeted && !exhausted && cursor !== null;
    return { data, next: more ? { afterId: cursor!, index: end } : null };
  }

  /** The message as the pipeline would render it: its subject, and why it would fail. */
  private render(
    step: MessageContent | undefined,
    row: RecipientRow,
    sender: MessageSender,
  ): { subject: string | null; error: string | null } {
    const { subject, error } = this.renderer.preview({
      step: 0,
      content: step,
      contact: {
        id: row.id,
        email: row.email,
        firstName: row.first_name,
        lastName: row.last_name,
        externalRef: row.external_ref,
        attributes: row.attributes,
      },
      sender,
    });
    return { subject, error };
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
