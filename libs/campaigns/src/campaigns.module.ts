import { Module } from '@nestjs/common';
import { DeliveriesModule } from '@herald/deliveries';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { RateLimitModule } from '@herald/rate-limit';
import { TelemetryModule } from '@herald/telemetry';
import { TimeModule } from '@herald/time';
import { CampaignsRepository } from './campaigns.repository';
import { QuotaBasis } from './runs/quota-basis';
import { RunStates } from './runs/run-states';
import { RunForecaster } from './runs/run-forecast';
import { RunLifecycle } from './runs/run-lifecycle';
import { RunList } from './runs/run-list';
import { RunPreview } from './runs/run-preview';
import { RunProgress } from './runs/run-progress';
import { CampaignSchedules } from './schedules';

/**
 * Campaigns and their runs: the one writer of `campaign_runs` (it completes runs as deliveries
 * reports them settled, through RunPort).
 */
@Module({
  imports: [DeliveriesModule, PersistenceModule, QueuesModule, RateLimitModule, TelemetryModule, TimeModule],
  providers: [
    CampaignsRepository,
    CampaignSchedules,
    QuotaBasis,
    RunStates,
    RunForecaster,
    RunLifecycle,
    RunList,
    RunPreview,
    RunProgress,
  ],
  exports: [CampaignsRepository, CampaignSchedules, RunLifecycle, RunList, RunPreview],
})
export class CampaignsModule {}
