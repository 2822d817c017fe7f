import { Module } from '@nestjs/common';
import { DeliveriesModule } from '@herald/deliveries';
import { CampaignsRepository } from './campaigns.repository';
import { RunsService } from './runs.service';
import { CampaignSchedules } from './schedules';

/** Campaigns and their runs. Needs the persistence and queues modules from the root. */
@Module({
  imports: [DeliveriesModule],
  providers: [CampaignsRepository, RunsService, CampaignSchedules],
  exports: [CampaignsRepository, RunsService, CampaignSchedules],
})
export class CampaignsModule {}
