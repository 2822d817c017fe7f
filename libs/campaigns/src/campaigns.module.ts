import { Module } from '@nestjs/common';
import { DeliveriesModule } from '@herald/deliveries';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { RateLimitModule } from '@herald/rate-limit';
import { TelemetryModule } from '@herald/telemetry';
import { TimeModule } from '@herald/time';
import { CampaignsRepository } from './campaigns.repository';
import { RunList } from './run-list';
import { RunsService } from './runs.service';
import { CampaignSchedules } from './schedules';

/** Campaigns and their runs. */
@Module({
  imports: [DeliveriesModule, PersistenceModule, QueuesModule, RateLimitModule, TelemetryModule, TimeModule],
  providers: [CampaignsRepository, RunsService, RunList, CampaignSchedules],
  exports: [CampaignsRepository, RunsService, RunList, CampaignSchedules],
})
export class CampaignsModule {}
