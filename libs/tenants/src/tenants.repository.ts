import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

export interface TenantRecord {
  id: string;
  name: string;
  timeZone: string;
  createdAt: Date;
}

interface TenantRow {
  id: string;
  name: string;
  time_zone: string;
  created_at: Date;
}

@Injectable()
export class TenantsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(manager: EntityManager, input: { name: string; timeZone: string }): Promise<TenantRecord> {
    const rows: TenantRow[] = await manager.query(
      `INSERT INTO tenants (name, time_zone) VALUES ($1, $2) RETURNING id, name, time_zone, created_at`,
      [input.name, input.timeZone],
    );
    return toTenant(rows[0]!);
  }

  async findById(id: string): Promise<TenantRecord | null> {
    const rows: TenantRow[] = await this.dataSource.query(
      `SELECT id, name, time_zone, created_at FROM tenants WHERE id = $1`,
      [id],
    );
    return rows[0] ? toTenant(rows[0]) : null;
  }
}

function toTenant(row: TenantRow): TenantRecord {
  return { id: row.id, name: row.name, timeZone: row.time_zone, createdAt: row.created_at };
}
