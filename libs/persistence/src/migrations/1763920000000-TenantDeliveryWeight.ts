import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A tenant's share of the delivery workers while several tenants have deliveries waiting: the
 * fair dispatcher serves active tenants round-robin, `delivery_weight` pages per turn (a tenant
 * of weight 3 gets three times the pages of one of weight 1). Bounded so one tenant cannot be
 * configured into owning the fleet.
 */
export class TenantDeliveryWeight1763920000000 implements MigrationInterface {
  name = 'TenantDeliveryWeight1763920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE tenants ADD COLUMN delivery_weight smallint NOT NULL DEFAULT 1
         CONSTRAINT tenants_delivery_weight_range CHECK (delivery_weight BETWEEN 1 AND 100)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants DROP COLUMN delivery_weight`);
  }
}
