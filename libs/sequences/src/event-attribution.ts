import type { EntityManager } from 'typeorm';

/**
 * The delivery a reply or conversion is attributed to: the one the caller named (a reply's
 * `payload.delivery_id`) when it is the contact's, else the contact's last delivery sent within
 * `days` before the event (only the named campaign's when one is), else none. An index range
 * of the contact's deliveries (idx_deliveries_tenant_contact), newest first.
 */
export async function attributedDelivery(
  manager: EntityManager,
  tenantId: string,
  what: { contactId: string; campaignId: string | null; at: Date; days: number; named: string | null },
): Promise<string | null> {
  const [row] = await manager.query<{ id: string }[]>(
    `SELECT id FROM (
       SELECT id, 0 AS rank, NULL::timestamptz AS sent_at FROM deliveries
        WHERE tenant_id = $1 AND id = $5::uuid AND contact_id = $2
       UNION ALL
       (SELECT id, 1, sent_at FROM deliveries
         WHERE tenant_id = $1 AND contact_id = $2 AND status = 'sent'
           AND sent_at <= $4::timestamptz AND sent_at > $4::timestamptz - make_interval(days => $6)
           AND ($3::uuid IS NULL OR campaign_id = $3::uuid)
         ORDER BY sent_at DESC LIMIT 1)
     ) candidates ORDER BY rank LIMIT 1`,
    [tenantId, what.contactId, what.campaignId, what.at.toISOString(), what.named, what.days],
  );
  return row?.id ?? null;
}
