import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { KeysetPosition } from '@herald/persistence';
import type { DataSource } from 'typeorm';

/** One entry of a contact's timeline: a delivery (with its status and why) or an interaction. */
export interface TimelineRow {
  kind: 'delivery' | 'interaction';
  id: string;
  createdAt: Date;
  /** delivery: status; interaction: type. */
  what: string;
  reason: string | null;
  campaignId: string | null;
  runId: string | null;
  step: number | null;
  channel: string | null;
  attempts: number | null;
  dueAt: Date | null;
  sentAt: Date | null;
  updatedAt: Date | null;
  payload: Record<string, unknown> | null;
}

/**
 * A contact's deliveries and interactions, newest first, in one keyset-paged list: each side
 * reads at most `limit` rows from its (tenant_id, contact_id, created_at DESC) index, and the
 * merge keeps the first `limit`.
 */
@Injectable()
export class ContactTimelineRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async contactExists(tenantId: string, contactId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM contacts WHERE tenant_id = $1 AND id = $2`,
      [tenantId, contactId],
    );
    return rows.length > 0;
  }

  async page(
    tenantId: string,
    contactId: string,
    before: KeysetPosition | null,
    limit: number,
  ): Promise<TimelineRow[]> {
    return this.dataSource.query<TimelineRow[]>(
      `SELECT * FROM (
         (SELECT 'delivery' AS kind, d.id, d.created_at AS "createdAt", d.status AS what,
                 d.last_error AS reason, d.campaign_id AS "campaignId", d.run_id AS "runId", d.step,
                 d.channel, d.attempts, d.due_at AS "dueAt", d.sent_at AS "sentAt",
                 d.updated_at AS "updatedAt", NULL::jsonb AS payload
            FROM deliveries d
           WHERE d.tenant_id = $1 AND d.contact_id = $2
             AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3::timestamptz, $4::uuid))
           ORDER BY d.created_at DESC, d.id DESC
           LIMIT $5)
         UNION ALL
         (SELECT 'interaction', i.id, i.created_at, i.type, NULL, NULL, NULL, NULL, NULL, NULL,
                 NULL, NULL, NULL, i.payload
            FROM interactions i
           WHERE i.tenant_id = $1 AND i.contact_id = $2
             AND ($3::timestamptz IS NULL OR (i.created_at, i.id) < ($3::timestamptz, $4::uuid))
           ORDER BY i.created_at DESC, i.id DESC
           LIMIT $5)
       ) timeline
       ORDER BY "createdAt" DESC, id DESC
       LIMIT $5`,
      [tenantId, contactId, before?.createdAt ?? null, before?.id ?? null, limit],
    );
  }
}
