import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AnalyticsRange, CampaignAnalytics, CampaignGrouping, Funnel } from './analytics-types';

/**
 * Reads the rollups (folded rows plus the deltas not folded yet): never the ledger or the
 * events, so a read costs the same for 1,000 or 1,000,000 deliveries.
 */
@Injectable()
export class AnalyticsReader {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A campaign's counts in a range of the tenant's local days, grouped; an unknown campaign reads as zeros. */
  async campaign(
    _tenantId: string,
    _campaignId: string,
    _by: CampaignGrouping,
    _range: AnalyticsRange,
  ): Promise<CampaignAnalytics> {
    void this.dataSource;
    throw new Error('not yet');
  }

  /** sourced → contacts → sent → delivered → replied → converted, tenant-wide or for one campaign. */
  async funnel(
    _tenantId: string,
    _range: AnalyticsRange,
    _options: { campaignId?: string | null } = {},
  ): Promise<Funnel> {
    throw new Error('not yet');
  }
}
