import type { EntityManager } from 'typeorm';
import type { EngagementEvent, EngagementKind } from '../engagement-event';

/**
 * Kinds counted once per delivery (the delivery's first human event of the kind, by when it
 * happened): a second open or a provider's repeated bounce is not a second message opened or
 * bounced. Conversions count each one. Events with no delivery count each one too.
 */
export const ONCE_PER_DELIVERY_KINDS: readonly EngagementKind[] = [
  'delivered',
  'bounced',
  'complained',
  'opened',
  'clicked',
  'replied',
  'unsubscribed',
];
const ONCE_PER_DELIVERY: ReadonlySet<EngagementKind> = new Set(ONCE_PER_DELIVERY_KINDS);

/** Which event of a delivery and kind the rollups count: the earliest by (occurred_at, id). The rebuild picks the same. */
export const FIRST_EVENT_ORDER = 'occurred_at, id';

/**
 * Appends what a newly recorded event changes in the rollups to `analytics_deltas`, in the
 * recorder's transaction. A machine event (prefetcher, scanner) changes nothing. For a kind
 * counted once per delivery, the count sits on the day of the delivery's earliest event of
 * that kind: an event that arrives late but happened earlier moves it (minus one on the old
 * day, plus one on the new), so the rollups equal a rebuild whatever order events arrive in.
 * (The dimensions are the events' own, copied from the delivery when each was recorded.)
 * A transaction-scoped advisory lock per delivery and kind makes concurrent recorders of the
 * same delivery take turns (callers record in READ COMMITTED, so the turn that waits sees the
 * other's event).
 */
export async function appendEventDeltas(manager: EntityManager, event: EngagementEvent): Promise<void> {
  if (event.machine) return;
  const column = event.kind; // the counters are named after the kinds
  const revenue = event.kind === 'converted' && event.value !== null ? event.value : '0';
  const currency = event.kind === 'converted' && event.value !== null ? event.currency : null;
  const once = ONCE_PER_DELIVERY.has(event.kind) && event.deliveryId !== null;
  if (once)
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      `analytics:${event.tenantId}:${event.deliveryId}:${event.kind}`,
    ]);
  await manager.query(
    `WITH prior AS (
       SELECT occurred_at, id, campaign_id, step, variant, sender_account_id FROM engagement_events
        WHERE $9 AND tenant_id = $1 AND delivery_id = $10 AND kind = $11 AND NOT machine AND id <> $12
        ORDER BY ${FIRST_EVENT_ORDER} LIMIT 1
     ), moves AS (
       -- This event is now the first: plus one on its day (and dimensions as recorded) …
       SELECT $6::timestamptz AS at, $2::uuid AS campaign_id, $3::smallint AS step, $4::text AS variant,
              $5::uuid AS sender_account_id, 1 AS n
        WHERE NOT EXISTS (SELECT 1 FROM prior p WHERE (p.occurred_at, p.id) < ($6::timestamptz, $12::uuid))
       UNION ALL
       -- … and minus one where the one it displaced was counted.
       SELECT p.occurred_at, p.campaign_id, p.step, p.variant, p.sender_account_id, -1
         FROM prior p WHERE ($6::timestamptz, $12::uuid) < (p.occurred_at, p.id)
     )
     INSERT INTO analytics_deltas (tenant_id, campaign_id, step, variant, sender_account_id, day, currency, ${column}, revenue)
     SELECT $1, m.campaign_id, m.step, m.variant, m.sender_account_id, (m.at AT TIME ZONE t.time_zone)::date, $7, m.n,
            CASE WHEN m.n > 0 THEN $8::numeric ELSE 0 END
       FROM moves m JOIN tenants t ON t.id = $1`,
    [
      event.tenantId,
      event.campaignId,
      event.step,
      event.variant,
      event.senderAccountId,
      event.occurredAt.toISOString(),
      currency,
      revenue,
      once,
      event.deliveryId,
      event.kind,
      event.id,
    ],
  );
}
