import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** A tenant's email layout (tenants.email_layout). */
@Injectable()
export class EmailLayoutRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async get(tenantId: string): Promise<string | null> {
    const [row] = await this.dataSource.query<{ email_layout: string | null }[]>(
      `SELECT email_layout FROM tenants WHERE id = $1`,
      [tenantId],
    );
    return row?.email_layout ?? null;
  }

  async set(tenantId: string, layout: string | null): Promise<void> {
    await this.dataSource.query(`UPDATE tenants SET email_layout = $2 WHERE id = $1`, [tenantId, layout]);
  }
}
