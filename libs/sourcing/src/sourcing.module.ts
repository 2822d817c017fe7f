import { Module } from '@nestjs/common';
import { ChannelsModule } from '@herald/channels';
import { DeliveriesModule } from '@herald/deliveries';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { RateLimitModule } from '@herald/rate-limit';
import { ResilienceModule } from '@herald/resilience';
import { TelemetryModule } from '@herald/telemetry';
import { TimeModule } from '@herald/time';
import { SourceAccountsRepository } from './accounts/source-accounts.repository';
import { SourceQuota } from './accounts/source-quota';
import { SourcingRunProgress } from './runs/run-progress';

const PROVIDERS = [SourceAccountsRepository, SourceQuota, SourcingRunProgress];

/**
 * Finding leads: source accounts (sealed, with quotas and a breaker), connectors, sourcing jobs
 * and their runs, candidates and dedupe. Qualifying has its own module under ./qualify.
 */
@Module({
  imports: [
    PersistenceModule,
    ChannelsModule,
    DeliveriesModule,
    QueuesModule,
    RateLimitModule,
    ResilienceModule,
    TelemetryModule,
    TimeModule,
  ],
  providers: PROVIDERS,
  exports: PROVIDERS,
})
export class SourcingModule {}
