import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows } from '@herald/persistence';
import type { MessageContent, MessageTracking } from './render/message-content';
import { RunPort } from './run-port';
import type { DeliveryWindow } from './send-window';
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
    /** The delivery's step: what to render (null when the campaign has no such step). */
    content: MessageContent | null;
    quotaPolicy: 'defer' | 'skip';
    runCap: number | null;
    status: string;
    sendWindow: DeliveryWindow | null;
    /** The step's experiment promoted this variant (a winner, or an operator's choice): everyone gets it. */
    promotedVariant: string | null;
    tracking: MessageTracking;
  };
  /** The tenant's email layout (null: the default one). */
  layout: string | null;
  runStatus: string | null;
  suppressed: boolean;
}

export const DELIVERY_STATUSES = [
  'pending',
  'sending',
  'sent',
  'failed',
  'skipped',
  'deferred',
  'cancelled',
  'unknown',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export const FINAL_STATUSES: readonly DeliveryStatus[] = ['sent', 'failed', 'skipped', 'cancelled'];
/**
 * Where the pipeline stops: final, or `unknown` (a crash left the send's outcome unknown and the
 * channel cannot take a repeat): only an operator moves it on (resend or close).
 */
export const SETTLED_STATUSES: readonly DeliveryStatus[] = [...FINAL_STATUSES, 'unknown'];

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
  content: MessageContent | null;
  quota_policy: 'defer' | 'skip';
  run_cap: number | null;
  /** The campaign's stored window (its JSON as written by campaigns). */
  send_window: { start: string; end: string; days?: DeliveryWindow['days']; time_zone?: string } | null;
  campaign_status: string;
  promoted_variant: string | null;
  tracking: MessageTracking;
  email_layout: string | null;
  run_status: string | null;
  suppressed: boolean;
}

/**
 * The statements every delivery goes through (claim, then `sent` with its interaction), named
 * so `bench -- deliveries` measures its SQL floor with exactly what the pipeline runs.
 *
 * Every statement of this file that takes rows by key (`unnest` joined on the primary key)
 * checks their status after finding them: the status condition is wrapped in `IS TRUE`, which
 * Postgres cannot use as an index condition. Left bare, the planner (which sees few rows in
 * flight) scanned the status indexes instead: every row of the tenant in flight for each key of
 * a `sent`, and every unfinished row of the table for a claim, so each statement grew with the
 * backlog (a claim of 128 rows read 9,290 index entries with 5,000 deliveries waiting).
 * $1 tenant ids, $2 delivery ids; claim: $3 resend_expired flags, $4 lease ms, $5 token;
 * markSent: $3 provider message ids.
 */
export const LEDGER_SQL = {
  claim: `UPDATE deliveries d
          SET status = 'sending',
              attempts = CASE WHEN d.status = 'sending' AND d.claim_token = $5::uuid THEN d.attempts ELSE d.attempts + 1 END,
              lease_until = now() + make_interval(secs => $4::double precision / 1000),
              claim_token = $5::uuid, updated_at = now()
         FROM unnest($1::uuid[], $2::uuid[], $3::boolean[]) AS k (tenant_id, id, resend_expired)
        WHERE d.tenant_id = k.tenant_id AND d.id = k.id
          AND (d.status IN ('pending', 'deferred')
               OR (d.status = 'sending' AND d.claim_token = $5::uuid)
               OR (d.status = 'sending' AND k.resend_expired AND d.lease_until < now())) IS TRUE
        RETURNING d.id, d.attempts`,
  markSent: `WITH sent AS (
         UPDATE deliveries d
            SET status = 'sent', provider_message_id = k.pmid, sent_at = now(), updated_at = now(),
                lease_until = NULL, last_error = NULL
           FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS k (tenant_id, id, pmid)
          WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND (d.status IN ('sending', 'unknown')) IS TRUE
          RETURNING d.tenant_id, d.id, d.contact_id, d.campaign_id, d.run_id, d.channel, k.pmid
       )
       INSERT INTO interactions (tenant_id, id, contact_id, type, payload)
       SELECT tenant_id, gen_random_uuid(), contact_id, 'delivery_sent',
              jsonb_build_object('delivery_id', id, 'campaign_id', campaign_id, 'run_id', run_id,
                                 'channel', channel, 'provider_message_id', pmid)
         FROM sent
       RETURNING id`,
} as const;

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
    private readonly runs: RunPort,
  ) {}

  async load(refs: readonly DeliveryRef[]): Promise<DeliveryContext[]> {
    if (refs.length === 0) return [];
    const rows = queryRows<ContextRow>(
      await this.dataSource.query(
        // The delivery and its contact are one subquery behind a fence (OFFSET 0), joined to the
        // campaign's tables after it: Postgres then plans two small joins instead of searching
        // every order of seven tables, which took 7 ms a batch, several times the execution.
        `SELECT dc.*, g.steps -> dc.step AS content, g.quota_policy, g.run_cap, g.send_window,
              g.status AS campaign_status, x.promoted_variant, g.tracking, t.email_layout, r.status AS run_status
         FROM (SELECT d.tenant_id, d.id, d.delivery_key, d.status, d.lease_until, d.campaign_id, d.run_id, d.step,
                      d.sender_account_id, d.channel, d.contact_id,
                      c.email, c.first_name, c.last_name, c.external_ref, c.status AS contact_status, c.attributes,
                      EXISTS (SELECT 1 FROM suppressions s
                               WHERE s.tenant_id = d.tenant_id
                                 AND (s.contact_id = d.contact_id OR (c.email IS NOT NULL AND s.email = c.email))) AS suppressed
                 FROM unnest($1::uuid[], $2::uuid[]) AS k (tenant_id, id)
                 JOIN deliveries d ON d.tenant_id = k.tenant_id AND d.id = k.id
                 JOIN contacts c ON c.tenant_id = d.tenant_id AND c.id = d.contact_id
               OFFSET 0) dc
         JOIN campaigns g ON g.tenant_id = dc.tenant_id AND g.id = dc.campaign_id
         JOIN tenants t ON t.id = dc.tenant_id
         LEFT JOIN campaign_runs r ON r.tenant_id = dc.tenant_id AND r.id = dc.run_id
         LEFT JOIN campaign_experiments x ON x.tenant_id = dc.tenant_id AND x.campaign_id = dc.campaign_id AND x.step = dc.step`,
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
        content: r.content,
        quotaPolicy: r.quota_policy,
        runCap: r.run_cap,
        status: r.campaign_status,
        sendWindow: r.send_window && deliveryWindow(r.send_window),
        promotedVariant: r.promoted_variant,
        tracking: r.tracking,
      },
      layout: r.email_layout,
      runStatus: r.run_status,
      suppressed: r.suppressed,
    }));
  }

  /**
   * Takes the deliveries for one attempt (`token`): pending or deferred ones, and `sending` ones
   * whose previous attempt's lease ran out where `resendExpired` says a repeat is allowed.
   * Repeating the call with the same token (its reply was lost) takes the same rows again
   * without counting another attempt. Returns the ids taken, with the attempt each one is on.
   */
  async claim(
    refs: readonly (DeliveryRef & { resendExpired: boolean })[],
    leaseMs: number,
    token: string,
  ): Promise<Map<string, number>> {
    if (refs.length === 0) return new Map();
    const rows = queryRows<{ id: string; attempts: number }>(
      await this.dataSource.query(LEDGER_SQL.claim, [
        ...keys(refs),
        refs.map((r) => r.resendExpired),
        leaseMs,
        token,
      ]),
    );
    return new Map(rows.map((r) => [r.id, r.attempts]));
  }

  /**
   * `sending` whose attempt's lease ran out → `unknown`: the attempt died between its provider
   * call and its record, and the channel cannot take a repeat. Returns those moved, by channel.
   */
  async markUnknown(items: readonly (DeliveryRef & { reason: string })[]): Promise<{ channel: string }[]> {
    if (items.length === 0) return [];
    return queryRows<{ channel: string }>(
      await this.dataSource.query(
        `UPDATE deliveries d SET status = 'unknown', last_error = left(k.reason, 1000), lease_until = NULL, updated_at = now()
           FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS k (tenant_id, id, reason)
          WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND (d.status = 'sending' AND d.lease_until < now()) IS TRUE
          RETURNING d.channel`,
        [items.map((i) => i.tenantId), items.map((i) => i.id), items.map((i) => i.reason)],
      ),
    );
  }

  /**
   * `sending` → `sent`, and the delivery_sent interaction, in one statement (one transaction).
   * An `unknown` row is sent too: its attempt's record came late, but it came.
   */
  async markSent(items: readonly (DeliveryRef & { providerMessageId: string })[]): Promise<number> {
    if (items.length === 0) return 0;
    const rows = queryRows<{ id: string }>(
      await this.dataSource.query(LEDGER_SQL.markSent, [
        items.map((i) => i.tenantId),
        items.map((i) => i.id),
        items.map((i) => i.providerMessageId),
      ]),
    );
    return rows.length;
  }

  /**
   * Final failure (permanent, or out of attempts), with its interaction. A delivery this batch
   * claimed is failed only while `token`'s attempt still holds it (a newer attempt may have
   * taken it after the lease; `unknown` is this attempt's own record, late). Without a token (a
   * render error, before any claim): pending, deferred, or `sending` past its lease.
   */
  async markFailed(
    items: readonly (DeliveryRef & { error: string; permanent: boolean })[],
    token: string | null = null,
  ): Promise<void> {
    if (items.length === 0) return;
    await this.dataSource.query(
      `WITH failed AS (
         UPDATE deliveries d
            SET status = 'failed', last_error = left(k.error, 1000), updated_at = now(), lease_until = NULL
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::boolean[]) AS k (tenant_id, id, error, permanent)
          WHERE d.tenant_id = k.tenant_id AND d.id = k.id
            AND (d.status IN ('pending', 'deferred')
                 OR (d.status IN ('sending', 'unknown') AND d.claim_token = $5::uuid)
                 OR ($5::uuid IS NULL AND d.status = 'sending' AND d.lease_until < now())) IS TRUE
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
        token,
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
        WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND (d.status IN ('pending', 'sending', 'deferred')) IS TRUE`,
      [items.map((i) => i.tenantId), items.map((i) => i.id), items.map((i) => i.reason), status],
    );
  }

  /**
   * The A/B/n variant each delivery was rendered with, written before its claim (only for steps
   * with variants: a step without them costs no statement). A settled row keeps what it went
   * out with.
   */
  async recordVariants(items: readonly (DeliveryRef & { variant: string })[]): Promise<void> {
    if (items.length === 0) return;
    await this.dataSource.query(
      `UPDATE deliveries d SET variant = k.variant
         FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS k (tenant_id, id, variant)
        WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND (d.status IN ('pending', 'sending', 'deferred')) IS TRUE
          AND d.variant IS DISTINCT FROM k.variant`,
      [items.map((i) => i.tenantId), items.map((i) => i.id), items.map((i) => i.variant)],
    );
  }

  /** Waits for a quota window: `deferred` until `dueAt`. */
  async defer(items: readonly (DeliveryRef & { dueAt: Date; reason: string })[]): Promise<void> {
    if (items.length === 0) return;
    await this.dataSource.query(
      `UPDATE deliveries d SET status = 'deferred', due_at = k.due_at, last_error = k.reason, updated_at = now(), lease_until = NULL
         FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[]) AS k (tenant_id, id, due_at, reason)
        WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND (d.status IN ('pending', 'sending', 'deferred')) IS TRUE`,
      [
        items.map((i) => i.tenantId),
        items.map((i) => i.id),
        items.map((i) => i.dueAt.toISOString()),
        items.map((i) => i.reason),
      ],
    );
  }

  /**
   * After a transient failure: back to `pending` (the job retries with backoff), if `token`'s
   * attempt still holds it (or its late record made it `unknown`: nothing was sent).
   */
  async release(items: readonly (DeliveryRef & { error: string })[], token: string): Promise<void> {
    if (items.length === 0) return;
    await this.dataSource.query(
      `UPDATE deliveries d SET status = 'pending', last_error = left(k.error, 1000), updated_at = now(), lease_until = NULL
         FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS k (tenant_id, id, error)
        WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND (d.status IN ('sending', 'unknown') AND d.claim_token = $4::uuid) IS TRUE`,
      [items.map((i) => i.tenantId), items.map((i) => i.id), items.map((i) => i.error), token],
    );
  }

  /**
   * Deliveries of these runs moved (settled, or their fan-out ended): the runs' owner completes
   * those with nothing left to send. Returns the ids of the runs it completed.
   */
  completeRuns(runs: readonly DeliveryRef[]): Promise<string[]> {
    return this.runs.deliveriesSettled(runs);
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
        WHERE d.tenant_id = k.tenant_id AND d.id = k.id AND (d.status IN ('pending', 'sending', 'deferred')) IS TRUE`,
      keys(refs),
    );
  }
}

/** A campaign's stored window (snake_case JSON) as deliveries reads it. */
function deliveryWindow(stored: NonNullable<ContextRow['send_window']>): DeliveryWindow {
  return {
    start: stored.start,
    end: stored.end,
    ...(stored.days ? { days: stored.days } : {}),
    ...(stored.time_zone ? { timeZone: stored.time_zone } : {}),
  };
}
