import { Module } from '@nestjs/common';
import { CampaignsModule } from '@herald/campaigns';
import { DeliveriesModule } from '@herald/deliveries';
import { EngagementModule, ExperimentsModule, ReportsModule } from '@herald/engagement';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { RateLimitModule } from '@herald/rate-limit';
import { SequencesModule } from '@herald/sequences';
import { SourcingModule, SourcingRunMetrics } from '@herald/sourcing';
import { TelemetryModule } from '@herald/telemetry';
import { BeatDuties } from './beat-duties';
import { Housekeeping } from './housekeeping';
import { LeaderLease } from './leader-lease';
import { SequenceMetrics } from './sequence-metrics';

/** Beat's duties run only while it holds the leader lease. */
@Module({
  imports: [
    DeliveriesModule,
    CampaignsModule,
    SequencesModule,
    EngagementModule,
    SourcingModule,
    PersistenceModule,
    QueuesModule,
    RateLimitModule,
    ExperimentsModule,
    ReportsModule,
    TelemetryModule,
  ],
  providers: [LeaderLease, BeatDuties, Housekeeping, SequenceMetrics, SourcingRunMetrics],
  exports: [LeaderLease],
})
export class BeatModule {}
