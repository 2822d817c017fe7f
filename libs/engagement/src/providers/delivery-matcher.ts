import type { EntityManager } from 'typeorm';
import type { MessageReference } from './provider-event';

/**
 * The tenant's delivery a provider event is about: by the delivery id Herald put in the message
 * (primary key), else by the digest in its Message-ID (idx_deliveries_message_digest). One index
 * probe either way.
 */
export async function matchDelivery(
  manager: EntityManager,
  tenantId: string,
  ref: MessageReference,
): Promise<string | undefined> {
  if (ref.deliveryId) {
    const [row] = await manager.query<{ id: string }[]>(
      `SELECT id FROM deliveries WHERE tenant_id = $1 AND id = $2`,
      [tenantId, ref.deliveryId],
    );
    if (row) return row.id;
  }
  if (ref.messageId) {
    const [row] = await manager.query<{ id: string }[]>(
      `SELECT id FROM deliveries WHERE tenant_id = $1 AND herald_message_digest(delivery_key) = $2 LIMIT 1`,
      [tenantId, ref.messageId],
    );
    if (row) return row.id;
  }
  return undefined;
}
