import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** What the analytics routes check before reading the rollups: the tenant's today and its campaigns. */
@Injectable()
export class AnalyticsScope {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Today and the day `daysBefore` before it, in the tenant's zone (YYYY-MM-DD). */
  async today(tenantId: string, daysBefore: number): Promise<{ today: string; before: string }> {
    const [row] = await this.dataSource.query<{ today: string; before: string }[]>(
      `SELECT to_char((now() AT TIME ZONE time_zone)::date, 'YYYY-MM-DD') AS today,
              to_char((now() AT TIME ZONE time_zone)::date - $2::int, 'YYYY-MM-DD') AS before
         FROM tenants WHERE id = $1`,
      [tenantId, daysBefore],
    );
    if (!row) throw new Error(`tenant ${tenantId} has no row`);
    return row;
  }

  async campaignExists(tenantId: string, campaignId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM campaigns WHERE tenant_id = $1 AND id = $2`,
      [tenantId, campaignId],
    );
    return rows.length > 0;
  }
}
