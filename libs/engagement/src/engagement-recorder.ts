import { Injectable, Optional } from '@nestjs/common';
import { uuidv7 } from '@herald/contacts';
import { queryRows } from '@herald/persistence';
import type { EntityManager } from 'typeorm';
import { EngagementMetrics } from './analytics/engagement-metrics';
import { appendBatchDeltas, appendEventDeltas } from './analytics/rollup-deltas';
import type { EngagementEvent, EngagementInput, RecordOutcome } from './engagement-event';

interface EventRow {
  id: string;
  tenant_id: string;
  kind: EngagementEvent['kind'];
  source: string;
  source_event_id: string;
  occurred_at: Date;
  delivery_id: string | null;
  contact_id: string | null;
  campaign_id: string | null;
  step: number | null;
  variant: string | null;
  sender_account_id: string | null;
  bounce_type: 'hard' | 'soft' | null;
  machine: boolean;
  url: string | null;
  value: string | null;
  currency: string | null;
}

const COLUMNS = `id, tenant_id, kind, source, source_event_id, occurred_at, delivery_id, contact_id, campaign_id,
  step, variant, sender_account_id, bounce_type, machine, url, value, currency`;

/**
 * The one way an engagement event enters Herald (provider webhooks, tracking, the unsubscribe
 * page, conversions, replies): in the caller's transaction, idempotent on (source, source event
 * id). Everything derived from events (rollups, account health) is updated here, in the same
 * transaction, only when the event is new — so a replay changes nothing anywhere.
 */
@Injectable()
export class EngagementRecorder {
  // Optional so a recorder built by hand (a test, a script) still counts.
  constructor(@Optional() private readonly metrics: EngagementMetrics = new EngagementMetrics()) {}

  async record(manager: EntityManager, input: EngagementInput): Promise<RecordOutcome> {
    const inserted = queryRows<EventRow>(
      await manager.query(
        `INSERT INTO engagement_events (tenant_id, id, kind, source, source_event_id, occurred_at, delivery_id,
           contact_id, campaign_id, step, variant, sender_account_id, bounce_type, machine, url, value, currency, details)
         SELECT $1, $2, $3, $4, $5, $6, d.id,
                coalesce(d.contact_id, $8::uuid), coalesce(d.campaign_id, $9::uuid), coalesce(d.step, $10::smallint),
                d.variant, d.sender_account_id, $11, $12, $13, $14, $15, $16
           FROM (SELECT 1) AS one
           LEFT JOIN deliveries d ON d.tenant_id = $1 AND d.id = $7::uuid
         ON CONFLICT (tenant_id, source, source_event_id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          input.tenantId,
          uuidv7(),
          input.kind,
          input.source,
          input.sourceEventId,
          input.occurredAt.toISOString(),
          input.deliveryId ?? null,
          input.contactId ?? null,
          input.campaignId ?? null,
          input.step ?? null,
          input.bounceType ?? null,
          input.machine ?? false,
          input.url ?? null,
          input.value ?? null,
          input.currency ?? null,
          JSON.stringify(input.details ?? {}),
        ],
      ),
    );
    if (inserted[0]) {
      const event = toEvent(inserted[0]);
      await this.derive(manager, event);
      return { recorded: true, event };
    }
    const [existing] = await manager.query<EventRow[]>(
      `SELECT ${COLUMNS} FROM engagement_events WHERE tenant_id = $1 AND source = $2 AND source_event_id = $3`,
      [input.tenantId, input.source, input.sourceEventId],
    );
    return { recorded: false, event: toEvent(existing!) };
  }

  /**
   * `record` for many events of one tenant at once (a provider's batch, the bulk route): the
   * same rows and rollups as recording them one by one, in a few statements. Returns the events
   * recorded now (replays, also of an event earlier in the same batch, are left out).
   */
  async recordMany(
    manager: EntityManager,
    tenantId: string,
    inputs: readonly Omit<EngagementInput, 'tenantId'>[],
  ): Promise<EngagementEvent[]> {
    if (inputs.length === 0) return [];
    const rows = queryRows<EventRow>(
      await manager.query(
        `INSERT INTO engagement_events (tenant_id, id, kind, source, source_event_id, occurred_at, delivery_id,
           contact_id, campaign_id, step, variant, sender_account_id, bounce_type, machine, url, value, currency, details)
         SELECT $1, r.id, r.kind, r.source, r.source_event_id, r.occurred_at, d.id,
                coalesce(d.contact_id, r.contact_id), coalesce(d.campaign_id, r.campaign_id), coalesce(d.step, r.step),
                d.variant, d.sender_account_id, r.bounce_type, r.machine, r.url, r.value, r.currency, r.details
           FROM jsonb_to_recordset($2::jsonb) AS r (id uuid, kind text, source text, source_event_id text,
                  occurred_at timestamptz, delivery_id uuid, contact_id uuid, campaign_id uuid, step smallint,
                  bounce_type text, machine boolean, url text, value numeric, currency char(3), details jsonb)
           LEFT JOIN deliveries d ON d.tenant_id = $1 AND d.id = r.delivery_id
         ON CONFLICT (tenant_id, source, source_event_id) DO NOTHING
         RETURNING ${COLUMNS}`,
        [
          tenantId,
          JSON.stringify(
            inputs.map((input) => ({
              id: uuidv7(),
              kind: input.kind,
              source: input.source,
              source_event_id: input.sourceEventId,
              occurred_at: input.occurredAt.toISOString(),
              delivery_id: input.deliveryId ?? null,
              contact_id: input.contactId ?? null,
              campaign_id: input.campaignId ?? null,
              step: input.step ?? null,
              bounce_type: input.bounceType ?? null,
              machine: input.machine ?? false,
              url: input.url ?? null,
              value: input.value ?? null,
              currency: input.currency ?? null,
              details: input.details ?? {},
            })),
          ),
        ],
      ),
    );
    const events = rows.map(toEvent);
    await appendBatchDeltas(manager, tenantId, events);
    for (const event of events) this.metrics.recorded(event);
    return events;
  }

  /** What a new event changes besides its row: the rollups (issue 12 item 6) and the events counter. */
  private async derive(manager: EntityManager, event: EngagementEvent): Promise<void> {
    await appendEventDeltas(manager, event);
    this.metrics.recorded(event);
  }
}

function toEvent(row: EventRow): EngagementEvent {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    source: row.source,
    sourceEventId: row.source_event_id,
    occurredAt: row.occurred_at,
    deliveryId: row.delivery_id,
    contactId: row.contact_id,
    campaignId: row.campaign_id,
    step: row.step,
    variant: row.variant,
    senderAccountId: row.sender_account_id,
    bounceType: row.bounce_type,
    machine: row.machine,
    url: row.url,
    value: row.value,
    currency: row.currency,
  };
}
