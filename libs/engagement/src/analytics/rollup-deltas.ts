import type { EntityManager } from 'typeorm';
import { ENGAGEMENT_KINDS, type EngagementEvent, type EngagementKind } from '../engagement-event';

const ENGAGEMENT_KINDS_IN_ORDER = ENGAGEMENT_KINDS;

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
      lockKey(event.tenantId, event.deliveryId!, event.kind),
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

const lockKey = (tenantId: string, deliveryId: string, kind: string) =>
  `analytics:${tenantId}:${deliveryId}:${kind}`;

/**
 * `appendEventDeltas` for a batch of one tenant's newly recorded events, in three statements
 * whatever its size, with the same outcome as recording them one by one: kinds counted once per
 * delivery take their advisory locks (in one order, so two batches never deadlock on them), then
 * each (delivery, kind)'s earliest event of the batch is weighed against the earliest recorded
 * before it; everything else counts as it comes. Deltas are grouped per rollup key.
 */
export async function appendBatchDeltas(
  manager: EntityManager,
  tenantId: string,
  events: readonly EngagementEvent[],
): Promise<void> {
  const human = events.filter((e) => !e.machine);
  if (human.length === 0) return;
  const locked = [
    ...new Set(
      human
        .filter((e) => e.deliveryId !== null && ONCE_PER_DELIVERY.has(e.kind))
        .map((e) => lockKey(tenantId, e.deliveryId!, e.kind)),
    ),
  ].sort();
  if (locked.length > 0)
    await manager.query(
      `SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0)))
         FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) AS keys`,
      [locked],
    );
  const kindSums = ENGAGEMENT_KINDS_IN_ORDER.map(
    (k) => `coalesce(sum(m.n) FILTER (WHERE m.kind = '${k}'), 0)`,
  ).join(', ');
  const once = ONCE_PER_DELIVERY_KINDS.map((k) => `'${k}'`).join(', ');
  await manager.query(
    `WITH batch AS (
       SELECT * FROM jsonb_to_recordset($2::jsonb) AS b (id uuid, kind text, occurred_at timestamptz, delivery_id uuid,
         campaign_id uuid, step smallint, variant text, sender_account_id uuid, value numeric, currency char(3))
     ), firsts AS (
       SELECT DISTINCT ON (delivery_id, kind) * FROM batch
        WHERE delivery_id IS NOT NULL AND kind IN (${once})
        ORDER BY delivery_id, kind, ${FIRST_EVENT_ORDER}
     ), prior AS (
       SELECT f.id AS first_id, p.* FROM firsts f
        CROSS JOIN LATERAL (
          SELECT e.occurred_at, e.id, e.campaign_id, e.step, e.variant, e.sender_account_id FROM engagement_events e
           WHERE e.tenant_id = $1 AND e.delivery_id = f.delivery_id AND e.kind = f.kind AND NOT e.machine
             AND e.id <> ALL ($3::uuid[])
           ORDER BY ${FIRST_EVENT_ORDER} LIMIT 1) p
     ), moves AS (
       SELECT f.occurred_at AS at, f.campaign_id, f.step, f.variant, f.sender_account_id, f.kind, 1 AS n,
              0::numeric AS revenue, NULL::char(3) AS currency
         FROM firsts f
        WHERE NOT EXISTS (SELECT 1 FROM prior p WHERE p.first_id = f.id AND (p.occurred_at, p.id) < (f.occurred_at, f.id))
       UNION ALL
       SELECT p.occurred_at, p.campaign_id, p.step, p.variant, p.sender_account_id, f.kind, -1, 0, NULL
         FROM prior p JOIN firsts f ON f.id = p.first_id
        WHERE (f.occurred_at, f.id) < (p.occurred_at, p.id)
       UNION ALL
       SELECT b.occurred_at, b.campaign_id, b.step, b.variant, b.sender_account_id, b.kind, 1,
              CASE WHEN b.kind = 'converted' AND b.value IS NOT NULL THEN b.value ELSE 0 END,
              CASE WHEN b.kind = 'converted' AND b.value IS NOT NULL THEN b.currency END
         FROM batch b WHERE b.delivery_id IS NULL OR b.kind NOT IN (${once})
     )
     INSERT INTO analytics_deltas (tenant_id, campaign_id, step, variant, sender_account_id, day, currency,
                                   ${ENGAGEMENT_KINDS_IN_ORDER.join(', ')}, revenue)
     SELECT $1, m.campaign_id, m.step, m.variant, m.sender_account_id, (m.at AT TIME ZONE t.time_zone)::date, m.currency,
            ${kindSums}, sum(m.revenue)
       FROM moves m JOIN tenants t ON t.id = $1
      GROUP BY m.campaign_id, m.step, m.variant, m.sender_account_id, (m.at AT TIME ZONE t.time_zone)::date, m.currency`,
    [
      tenantId,
      JSON.stringify(
        human.map((e) => ({
          id: e.id,
          kind: e.kind,
          occurred_at: e.occurredAt.toISOString(),
          delivery_id: e.deliveryId,
          campaign_id: e.campaignId,
          step: e.step,
          variant: e.variant,
          sender_account_id: e.senderAccountId,
          value: e.value,
          currency: e.currency,
        })),
      ),
      human.map((e) => e.id),
    ],
  );
}
