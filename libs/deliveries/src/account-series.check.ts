import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { accountSeries } from '@herald/telemetry';
import type { DataSource } from 'typeorm';

/**
 * Tells the per-account gauges (quota windows, breaker state) which sender accounts still exist
 * and are not disabled, so a deleted or disabled account's series leave /metrics at the next
 * scrape, whichever way it went (API, SQL, a tenant removed). Paused accounts keep theirs.
 */
@Injectable()
export class AccountSeriesCheck implements OnModuleInit {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    accountSeries.useCheck(async (ids) => {
      // Quota series name an account `<tenant id>:<account id>`, breaker series by its id alone.
      const accountId = (id: string) => id.slice(id.lastIndexOf(':') + 1);
      const rows = await this.dataSource.query<{ id: string }[]>(
        `SELECT id::text AS id FROM sender_accounts WHERE id::text = ANY($1::text[]) AND status <> 'disabled'`,
        [[...new Set(ids.map(accountId))]],
      );
      const live = new Set(rows.map((r) => r.id));
      return new Set(ids.filter((id) => live.has(accountId(id))));
    });
  }
}
