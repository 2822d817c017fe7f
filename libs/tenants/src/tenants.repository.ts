import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows } from '@herald/persistence';
import type { DataSource, EntityManager } from 'typeorm';

export interface TenantRecord {
  id: string;
  name: string;
  timeZone: string;
  /** Its share of the delivery workers while other tenants have deliveries waiting (1–100). */
  deliveryWeight: number;
  createdAt: Date;
}

interface TenantRow {
  id: string;
  name: string;
  time_zone: string;
  delivery_weight: number;
  created_at: Date;
}

const COLUMNS = 'id, name, time_zone, delivery_weight, created_at';

@Injectable()
export class TenantsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(
    manager: EntityManager,
    input: { name: string; timeZone: string; deliveryWeight?: number },
  ): Promise<TenantRecord> {
    const rows: TenantRow[] = await manager.query(
      `INSERT INTO tenants (name, time_zone, delivery_weight) VALUES ($1, $2, coalesce($3, 1)) RETURNING ${COLUMNS}`,
      [input.name, input.timeZone, input.deliveryWeight ?? null],
    );
    return toTenant(rows[0]!);
  }

  /** Changes what is given; null when there is no such tenant. */
  async update(
    manager: EntityManager,
    id: string,
    input: { deliveryWeight?: number },
  ): Promise<TenantRecord | null> {
    const rows = queryRows<TenantRow>(
      await manager.query(
        `UPDATE tenants SET delivery_weight = coalesce($2, delivery_weight), updated_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, input.deliveryWeight ?? null],
      ),
    );
    return rows[0] ? toTenant(rows[0]) : null;
  }

  /** Every tenant, oldest first, in keyset pages (the platform's list). */
  async page(after: { createdAt: Date; id: string } | null, limit: number): Promise<TenantRecord[]> {
    const rows = queryRows<TenantRow>(
      await this.dataSource.query(
        // tenants.created_at keeps microseconds and a cursor milliseconds: compare at the cursor's.
        `SELECT ${COLUMNS} FROM tenants
          WHERE ($1::timestamptz IS NULL OR (date_trunc('milliseconds', created_at), id) > ($1, $2::uuid))
          ORDER BY date_trunc('milliseconds', created_at), id LIMIT $3`,
        [after?.createdAt ?? null, after?.id ?? null, limit],
      ),
    );
    return rows.map(toTenant);
  }

  async findById(id: string): Promise<TenantRecord | null> {
    const rows: TenantRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM tenants WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? toTenant(rows[0]) : null;
  }
}

function toTenant(row: TenantRow): TenantRecord {
  return {
    id: row.id,
    name: row.name,
    timeZone: row.time_zone,
    deliveryWeight: row.delivery_weight,
    createdAt: row.created_at,
  };
}
