import { Module } from '@nestjs/common';
import { DeliveriesModule } from '@herald/deliveries';
import { CampaignsRepository } from './campaigns.repository';
import { RunsService } from './runs.service';

/** Campaigns and their runs. Needs the persistence and queues modules from the root. */
@Module({
  imports: [DeliveriesModule],
  providers: [CampaignsRepository, RunsService],
  exports: [CampaignsRepository, RunsService],
})
export class CampaignsModule {}
