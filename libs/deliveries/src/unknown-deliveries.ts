import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows, type KeysetPosition } from '@herald/persistence';
import { HeraldLogger } from '@herald/telemetry';
import type { DataSource } from 'typeorm';
import type { DeliveryStatus } from './ledger.repository';
import { OutboxRelay } from './outbox-relay';

/** A delivery as the operator sees it. */
export interface DeliveryRecord {
  tenantId: string;
  id: string;
  deliveryKey: string;
  campaignId: string;
  runId: string | null;
  contactId: string;
  senderAccountId: string;
  channel: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An operator's action on one delivery: done, no such delivery, or not `unknown` (any more). */
export type OperatorOutcome =
  | { kind: 'done'; delivery: DeliveryRecord }
  | { kind: 'missing' }
  | { kind: 'not_unknown'; status: DeliveryStatus };

/** A ledger row as the operator routes read it (see run-deliveries.ts too). */
export interface DeliveryRow {
  tenant_id: string;
  id: string;
  delivery_key: string;
  campaign_id: string;
  run_id: string | null;
  contact_id: string;
  sender_account_id: string;
  channel: string;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

export const DELIVERY_COLUMNS = `tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id, channel,
                 status, attempts, last_error, created_at, updated_at`;

/**
 * The operator's side of promise 2: deliveries held as `unknown` (a crash left their send's
 * outcome unknown, and their account does not take a repeat) are listed, and each is either
 * resent (back to `pending`, with a job of its own) or closed as `sent` or `failed` with the
 * operator's reason, which the ledger and the contact's interactions keep. `tenantId` null: any
 * tenant's (the platform admin).
 */
@Injectable()
export class UnknownDeliveries {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxRelay,
    private readonly logger: HeraldLogger,
  ) {}

  /** A keyset page in creation order (served by idx_deliveries_unknown). */
  async list(
    tenantId: string | null,
    after: KeysetPosition | null,
    limit: number,
  ): Promise<DeliveryRecord[]> {
    const rows = await this.dataSource.query<DeliveryRow[]>(
      `SELECT ${DELIVERY_COLUMNS} FROM deliveries
        WHERE status = 'unknown' AND ($1::uuid IS NULL OR tenant_id = $1)
          AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
        ORDER BY created_at, id LIMIT $4`,
      [tenantId, after?.createdAt.toISOString() ?? null, after?.id ?? null, limit],
    );
    return rows.map(toDeliveryRecord);
  }

  /**
   * `unknown` → `pending`, and a `deliveries.send` job of its own through the outbox (the
   * delivery's first job may still exist under its id), in one transaction; relayed after commit.
   * It may reach the recipient a second time: that is what the operator decides here.
   */
  async resend(tenantId: string | null, id: string, reason: string | undefined): Promise<OperatorOutcome> {
    const note = `resent by an operator${reason ? `: ${reason}` : ''}`;
    const outcome = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const [row] = queryRows<DeliveryRow>(
        await manager.query(
          `UPDATE deliveries SET status = 'pending', due_at = now(), lease_until = NULL, claim_token = NULL,
                  last_error = left($3, 1000), updated_at = now()
            WHERE id = $2 AND ($1::uuid IS NULL OR tenant_id = $1) AND status = 'unknown'
            RETURNING ${DELIVERY_COLUMNS}`,
          [tenantId, id, note],
        ),
      );
      if (!row) return this.whyNot(tenantId, id);
      await this.outbox.write(manager, row.tenant_id, 'deliveries.send', resendJob(row));
      return { kind: 'done' as const, delivery: toDeliveryRecord(row) };
    });
    if (outcome.kind === 'done') {
      const { delivery } = outcome;
      await this.outbox.dispatchJob('deliveries.send', resendJob(rowOf(delivery)));
      this.logger.info({ tenant_id: delivery.tenantId, delivery_id: delivery.id }, 'unknown delivery resent');
    }
    return outcome;
  }

  /**
   * Closes an `unknown` delivery as the operator found it: `sent` (the provider has it) or
   * `failed` (it did not arrive, or it is not worth the risk of a second copy), with the reason,
   * and the matching interaction (sequences move on, or stop, as for any send).
   */
  async close(
    tenantId: string | null,
    id: string,
    outcome: 'sent' | 'failed',
    reason: string,
  ): Promise<OperatorOutcome> {
    const note = `closed as ${outcome} by an operator: ${reason}`;
    const [row] = queryRows<DeliveryRow>(
      await this.dataSource.query(
        `WITH closed AS (
           UPDATE deliveries SET status = $3, last_error = left($4, 1000), lease_until = NULL, updated_at = now(),
                  sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE sent_at END
            WHERE id = $2 AND ($1::uuid IS NULL OR tenant_id = $1) AND status = 'unknown'
            RETURNING ${DELIVERY_COLUMNS}
         ), noted AS (
           INSERT INTO interactions (tenant_id, id, contact_id, type, payload)
           SELECT tenant_id, gen_random_uuid(), contact_id,
                  CASE WHEN $3 = 'sent' THEN 'delivery_sent' ELSE 'delivery_failed' END,
                  jsonb_build_object('delivery_id', id, 'campaign_id', campaign_id, 'run_id', run_id,
                                     'channel', channel, 'closed_by_operator', true, 'reason', left($4, 1000))
                  || CASE WHEN $3 = 'failed' THEN jsonb_build_object('error', left($4, 1000), 'permanent', true)
                          ELSE '{}'::jsonb END
             FROM closed
         )
         SELECT * FROM closed`,
        [tenantId, id, outcome, note],
      ),
    );
    if (!row) return this.whyNot(tenantId, id);
    this.logger.info(
      { tenant_id: row.tenant_id, delivery_id: row.id, outcome },
      'unknown delivery closed by an operator',
    );
    return { kind: 'done', delivery: toDeliveryRecord(row) };
  }

  private async whyNot(tenantId: string | null, id: string): Promise<OperatorOutcome> {
    const [row] = await this.dataSource.query<{ status: DeliveryStatus }[]>(
      `SELECT status FROM deliveries WHERE id = $2 AND ($1::uuid IS NULL OR tenant_id = $1) LIMIT 1`,
      [tenantId, id],
    );
    return row ? { kind: 'not_unknown', status: row.status } : { kind: 'missing' };
  }
}

/** The resend's job: its own id (the attempt count it starts from), so an old job cannot hide it. */
function resendJob(row: Pick<DeliveryRow, 'tenant_id' | 'id' | 'attempts'>) {
  return { tenant_id: row.tenant_id, delivery_id: row.id, resend: row.attempts };
}

function rowOf(d: DeliveryRecord): Pick<DeliveryRow, 'tenant_id' | 'id' | 'attempts'> {
  return { tenant_id: d.tenantId, id: d.id, attempts: d.attempts };
}

export function toDeliveryRecord(row: DeliveryRow): DeliveryRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    deliveryKey: row.delivery_key,
    campaignId: row.campaign_id,
    runId: row.run_id,
    contactId: row.contact_id,
    senderAccountId: row.sender_account_id,
    channel: row.channel,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
