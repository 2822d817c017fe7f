import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows } from '@herald/persistence';
import type { DataSource } from 'typeorm';
import type { DeliveryStatus } from './ledger.repository';
import {
  DELIVERY_COLUMNS,
  toDeliveryRecord,
  type DeliveryRecord,
  type DeliveryRow,
} from './unknown-deliveries';

/**
 * A run's deliveries as the ledger holds them — status, attempts and why (`last_error`) — in
 * keyset pages by delivery id (time-ordered ids: the order the fan-out wrote them), optionally of
 * one status: what the console's run page and an operator read to see why a contact got nothing.
 * Undefined when the run is not the tenant's.
 */
@Injectable()
export class RunDeliveries {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async page(
    tenantId: string,
    runId: string,
    status: DeliveryStatus | undefined,
    afterId: string | null,
    limit: number,
  ): Promise<DeliveryRecord[] | undefined> {
    const rows = queryRows<DeliveryRow & { run_found: boolean }>(
      await this.dataSource.query(
        `SELECT r.id IS NOT NULL AS run_found, d.*
           FROM (SELECT 1) one
           LEFT JOIN campaign_runs r ON r.tenant_id = $1 AND r.id = $2
           LEFT JOIN LATERAL (
             SELECT ${DELIVERY_COLUMNS} FROM deliveries
              WHERE tenant_id = $1 AND run_id = $2 AND r.id IS NOT NULL
                AND ($3::text IS NULL OR status = $3)
                AND ($4::uuid IS NULL OR id > $4)
              ORDER BY id LIMIT $5) d ON true`,
        [tenantId, runId, status ?? null, afterId, limit],
      ),
    );
    if (!rows[0]?.run_found) return undefined;
    return rows.filter((r) => r.id !== null).map(toDeliveryRecord);
  }
}
