import type { EntityManager } from 'typeorm';
import type { MessageReference } from './provider-event';

/**
 * The tenant's deliveries a batch of provider events is about, in one statement: each event by
 * the delivery id Herald put in the message (primary key), else by the digest in its Message-ID
 * (idx_deliveries_message_digest). Index probes only, however large the ledger; undefined for
 * an event that names no delivery of the tenant.
 */
export async function matchDeliveries(
  manager: EntityManager,
  tenantId: string,
  refs: readonly MessageReference[],
): Promise<(string | undefined)[]> {
  const ids = [...new Set(refs.flatMap((r) => (r.deliveryId ? [r.deliveryId] : [])))];
  const digests = [...new Set(refs.flatMap((r) => (r.messageId ? [r.messageId] : [])))];
  if (ids.length === 0 && digests.length === 0) return refs.map(() => undefined);
  const rows = await manager.query<{ id: string; digest: string | null }[]>(
    `SELECT id, NULL AS digest FROM deliveries WHERE tenant_id = $1 AND id = ANY($2::uuid[])
     UNION ALL
     SELECT id, herald_message_digest(delivery_key) AS digest FROM deliveries
      WHERE tenant_id = $1 AND herald_message_digest(delivery_key) = ANY($3::text[])`,
    [tenantId, ids, digests],
  );
  const byId = new Set(rows.filter((r) => r.digest === null).map((r) => r.id));
  const byDigest = new Map(rows.filter((r) => r.digest !== null).map((r) => [r.digest!, r.id]));
  return refs.map((r) =>
    r.deliveryId && byId.has(r.deliveryId)
      ? r.deliveryId
      : r.messageId
        ? byDigest.get(r.messageId)
        : undefined,
  );
}
