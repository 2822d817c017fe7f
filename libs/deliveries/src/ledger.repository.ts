import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows } from '@herald/persistence';
import { HeraldMetrics } from '@herald/telemetry';
import type { StoredSendWindow } from './send-window';
import type { DataSource } from 'typeorm';

export interface DeliveryRef {
  tenantId: string;
  id: string;
}

/** Everything one send needs, read in one query for a whole batch. */
export interface DeliveryContext {
  tenantId: string;
  id: string;
  deliveryKey: string;
  status: DeliveryStatus;
  leaseUntil: Date | null;
  campaignId: string;
  runId: string | null;
  step: number;
  senderAccountId: string;
  channel: string;
  contact: {
    id: string;
    email: string | null;
    firstName: string | null;
    lastName: string | null;
    externalRef: string | null;
    status: string;
    attributes: Record<string, unknown>;
  };
  campaign: {
    steps: CampaignStep[];
    quotaPolicy: 'defer' | 'skip';
    runCap: number | null;
    status: string;
    sendWindow: StoredSendWindow | null;
  };
  runStatus: string | null;
  suppressed: boolean;
}

export interface CampaignStep {
  subject?: string;
  body: string;
  html?: boolean;
  delay_seconds?: number;
}

export const DELIVERY_STATUSES = [
  'pending',
  'sending',
  'sent',
  'failed',
  'skipped',
  'deferred',
  'cancelled',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export const FINAL_STATUSES: readonly DeliveryStatus[] = ['sent', 'failed', 'skipped', 'cancelled'];

interface ContextRow {
  tenant_id: string;
  id: string;
  delivery_key: string;
  status: DeliveryStatus;
  lease_until: Date | null;
  campaign_id: string;
  run_id: string | null;
  step: number;
  sender_account_id: string;
  channel: string;
  contact_id: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  external_ref: string | null;
  contact_status: string;
  attributes: Record<string, unknown>;
  steps: CampaignStep[];
  quota_policy: 'defer' | 'skip';
  run_cap: number | null;
  send_window: StoredSendWindow | null;
  campaign_status: string;
  run_status: string | null;
  suppressed: boolean;
}

const keys = (refs: readonly DeliveryRef[]) => [refs.map((r) => r.tenantId), refs.map((r) => r.id)];

/**
 * The delivery ledger, written in batches: each method is one statement for any number of
 * deliveries. State changes are guarded by the expected current status, so a stale worker
 * can never move a delivery backwards (a `sent` row stays sent).
 */
@Injectable()
export class LedgerRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: HeraldMetrics,
  ) {}

  async load(refs: readonly DeliveryRef[]): Promise<DeliveryContext[]> {
    if (refs.length === 0) return [];
    const rows = queryRows<ContextRow>(
      await this.dataSource.query(
        `SELECT d.tenant_id, d.id, d.delivery_key, d.status, d.lease_until, d.campaign_id, d.run_id, d.step,
              d.sender_account_id, d.channel, d.contact_id,
              c.email, c.first_name, c.last_name, c.external_ref, c.status AS contact_status, c.attributes,
              g.steps, g.quota_policy, g.run_cap, g.send_window, g.status AS campaign_status,
              r.status AS run_status,
              EXISTS (SELECT 1 FROM suppressions s
                       WHERE s.tenant_id = d.tenant_id
                         AND (s.contact_id = d.contact_id OR (c.email IS NOT NULL AND s.email = c.email))) AS suppressed
         FROM unnest($1::uuid[], $2::uuid[]) AS k (tenant_id, id)
         JOIN deliveries d ON d.tenant_id = k.tenant_id AND d.id = k.id
         JOIN contacts c ON c.tenant_id = d.tenant_id AND c.id = d.contact_id
         JOIN campaigns g ON g.tenant_id = d.tenant_id AND g.id = d.campaign_id
         LEFT JOIN campaign_runs r ON r.tenant_id = d.tenant_id AND r.id = d.run_id`,
        keys(refs),
      ),
    );
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      id: r.id,
      deliveryKey: r.delivery_key,
      status: r.status,
      leaseUntil: r.lease_until,
      campaignId: r.campaign_id,
      runId: r.run_id,
      step: r.step,
      senderAccountId: r.sender_account_id,
      channel: r.channel,
      contact: {
        id: r.contact_id,
        email: r.email,
        firstName: r.first_name,
        lastName: r.last_name,
        externalRef: r.external_ref,
        status: r.contact_status,
        attributes: r.attributes,
      },
      campaign: {
        steps: r.steps,
        quotaPolicy: r.quota_policy,
        runCap: r.run_cap,
        status: r.campaign_status,
        sendWindow: r.send_window,
      },
      runStatus: r.run_status,
      suppressed: r.suppressed,
    }));
  }

  /**
   * Takes the deliveries for one attempt: pending or deferred ones, or `sending` ones whose
   * previous attempt's lease ran out (a crashed worker). Returns the ids taken, with the
   * attempt number each one is now on.
   */
  async claim(refs: readonly DeliveryRef[], leaseMs: number): Promise<Map<string, number>> {
    if (refs.length === 0) return new Map();
    const rows = queryRows<{ id: string; attempts: number }>(
      await this.dataSource.query(
        `UPDATE deliveries d
          SET status = 'sending', attempts = d.attempts + 1, lease_until = now() + make_interval(secs => $3::double precision / 1000),
              updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[]) AS k (tenant_id, id)
        WHERE d.tenant_id = k.tenant_id AND d.id = k.id
          AND (d.status IN ('pending', 'deferred') OR (d.status = 'sending' AND d.lease_until < now()))
        RETURNING d.id, d.attempts`,
        [...keys(refs), leaseMs],
      ),
    );
    return new Map(rows.map((r) => [r.id, r.attempts]));
  }

  /** `sending` → `sent`, and the delivery_sent interaction, in one statement (one transaction). */
  async markSent(items: readonly (DeliveryRef & { providerMessageId: string })[]): Promise<number> {
    if (items.length === 0) return 0;
    const rows = queryRows<{ id: string }>(
      await this.dataSource.query(
        `WITH sent AS (
         UPDATE deliveries d
            SET status = 'sent', provider_message_id = k.pmid, sent_at = now(), updated_at = now(),
                lease_until = NULL, last_error = NULL
           FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS k (tenant_id, id, pmid)
          WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND d.status = 'sending'
          RETURNING d.tenant_id, d.id, d.contact_id, d.campaign_id, d.run_id, d.channel, k.pmid
       )
       INSERT INTO interactions (tenant_id, id, contact_id, type, payload)
       SELECT tenant_id, gen_random_uuid(), contact_id, 'delivery_sent',
              jsonb_build_object('delivery_id', id, 'campaign_id', campaign_id, 'run_id', run_id,
                                 'channel', channel, 'provider_message_id', pmid)
         FROM sent
       RETURNING id`,
        [items.map((i) => i.tenantId), items.map((i) => i.id), items.map((i) => i.providerMessageId)],
      ),
    );
    return rows.length;
  }

  /** Final failure (permanent, or out of attempts), with its interaction. */
  async markFailed(items: readonly (DeliveryRef & { error: string; permanent: boolean })[]): Promise<void> {
    if (items.length === 0) return;
    await this.dataSource.query(
      `WITH failed AS (
         UPDATE deliveries d
            SET status = 'failed', last_error = left(k.error, 1000), updated_at = now(), lease_until = NULL
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::boolean[]) AS k (tenant_id, id, error, permanent)
          WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND d.status IN ('pending', 'sending', 'deferred')
          RETURNING d.tenant_id, d.id, d.contact_id, d.campaign_id, d.run_id, d.channel, k.error, k.permanent
       )
       INSERT INTO interactions (tenant_id, id, contact_id, type, payload)
       SELECT tenant_id, gen_random_uuid(), contact_id, 'delivery_failed',
              jsonb_build_object('delivery_id', id, 'campaign_id', campaign_id, 'run_id', run_id,
                                 'channel', channel, 'error', left(error, 1000), 'permanent', permanent)
         FROM failed`,
      [
        items.map((i) => i.tenantId),
        items.map((i) => i.id),
        items.map((i) => i.error),
        items.map((i) => i.permanent),
      ],
    );
  }

  /** Moves unfinished deliveries to a status that needs no send: skipped or cancelled. */
  async settle(
    items: readonly (DeliveryRef & { reason: string })[],
    status: 'skipped' | 'cancelled',
  ): Promise<void> {
    if (items.length === 0) return;
    await this.dataSource.query(
      `UPDATE deliveries d SET status = $4, last_error = left(k.reason, 1000), updated_at = now(), lease_until = NULL
         FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS k (tenant_id, id, reason)
        WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND d.status IN ('pending', 'sending', 'deferred')`,
      [items.map((i) => i.tenantId), items.map((i) => i.id), items.map((i) => i.reason), status],
    );
  }

  /** Waits for a quota window: `deferred` until `dueAt`. */
  async defer(items: readonly (DeliveryRef & { dueAt: Date; reason: string })[]): Promise<void> {
    if (items.length === 0) return;
    await this.dataSource.query(
      `UPDATE deliveries d SET status = 'deferred', due_at = k.due_at, last_error = k.reason, updated_at = now(), lease_until = NULL
         FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[]) AS k (tenant_id, id, due_at, reason)
        WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND d.status IN ('pending', 'sending', 'deferred')`,
      [
        items.map((i) => i.tenantId),
        items.map((i) => i.id),
        items.map((i) => i.dueAt.toISOString()),
        items.map((i) => i.reason),
      ],
    );
  }

  /** After a transient failure: back to `pending` (the job retries with backoff). */
  async release(items: readonly (DeliveryRef & { error: string })[]): Promise<void> {
    if (items.length === 0) return;
    await this.dataSource.query(
      `UPDATE deliveries d SET status = 'pending', last_error = left(k.error, 1000), updated_at = now(), lease_until = NULL
         FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS k (tenant_id, id, error)
        WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND d.status = 'sending'`,
      [items.map((i) => i.tenantId), items.map((i) => i.id), items.map((i) => i.error)],
    );
  }

  /** Marks runs completed once their fan-out is done and no delivery is left to finish. */
  async completeRuns(runs: readonly DeliveryRef[]): Promise<string[]> {
    if (runs.length === 0) return [];
    const rows = queryRows<{ id: string; kind: string; trigger: string }>(
      await this.dataSource.query(
        `UPDATE campaign_runs r SET status = 'completed', finished_at = now()
         FROM unnest($1::uuid[], $2::uuid[]) AS k (tenant_id, id), campaigns g
        WHERE r.tenant_id = k.tenant_id AND r.id = k.id AND r.status = 'running' AND r.fanout_done
          AND g.tenant_id = r.tenant_id AND g.id = r.campaign_id
          AND NOT EXISTS (SELECT 1 FROM deliveries d
                           WHERE d.tenant_id = r.tenant_id AND d.run_id = r.id
                             AND d.status IN ('pending', 'sending', 'deferred'))
        RETURNING r.id, g.kind, r.trigger`,
        keys(runs),
      ),
    );
    for (const r of rows)
      this.metrics.campaignRuns.inc({ kind: r.kind, trigger: r.trigger, outcome: 'completed' });
    return rows.map((r) => r.id);
  }

  /**
   * Deliveries that should be moving but may have lost their job (Redis lost data, a job was
   * removed): pending or deferred ones past due and quiet for `quietMs`, and `sending` ones
   * whose attempt's lease ran out. Runs that were cancelled are left alone.
   */
  async findStalled(quietMs: number, limit: number): Promise<DeliveryRef[]> {
    const rows = queryRows<{ tenant_id: string; id: string }>(
      await this.dataSource.query(
        `SELECT d.tenant_id, d.id
           FROM deliveries d
          WHERE d.status IN ('pending', 'sending', 'deferred')
            AND d.updated_at < now() - make_interval(secs => $1::double precision / 1000)
            AND d.due_at <= now()
            AND (d.status <> 'sending' OR d.lease_until < now())
          ORDER BY d.updated_at
          LIMIT $2`,
        [quietMs, limit],
      ),
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, id: r.id }));
  }

  /** Marks deliveries as looked at, so the next sweep moves on to others. */
  async touch(refs: readonly DeliveryRef[]): Promise<void> {
    if (refs.length === 0) return;
    await this.dataSource.query(
      `UPDATE deliveries d SET updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[]) AS k (tenant_id, id)
        WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND d.status IN ('pending', 'sending', 'deferred')`,
      keys(refs),
    );
  }
}
