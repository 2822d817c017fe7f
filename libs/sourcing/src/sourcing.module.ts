import { Module, type OnModuleInit } from '@nestjs/common';
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
import { CandidateList } from './candidates/candidate-list';
import { CandidateWriter } from './candidates/candidate-writer';
import { SourcingJobsRepository } from './jobs/sourcing-jobs.repository';
import { SourcingLostQualifyJobs } from './runs/lost-qualify-jobs';
import { SourcingLostRunJobs } from './runs/lost-run-jobs';
import { SourcingRunExecutor } from './runs/run-executor';
import { SourcingRunLifecycle } from './runs/run-lifecycle';
import { SourcingRunMetrics } from './runs/run-metrics';
import { RunPlanner } from './runs/run-planner';
import { SourcingRunReconciler } from './runs/run-reconciler';
import { SourcingRunProgress } from './runs/run-progress';
import { SourcingRequalify } from './runs/requalify';
import { SourcingSchedules } from './runs/run-schedules';
import {
  RECOVERY_OUTCOMES,
  sourcingCandidates,
  sourcingRequalified,
  sourcingRequests,
  sourcingRunRecoveries,
} from './sourcing-metrics';

const PROVIDERS = [
  SourceAccountsRepository,
  SourceQuota,
  SourcingRunProgress,
  SourcingJobsRepository,
  CandidateWriter,
  CandidateList,
  RunPlanner,
  SourcingRunLifecycle,
  SourcingRunExecutor,
  SourcingSchedules,
  SourcingRunReconciler,
  SourcingLostRunJobs,
  SourcingLostQualifyJobs,
  SourcingRequalify,
];

/**
 * Finding leads: source accounts (sealed, with quotas and a breaker), connectors, sourcing jobs
 * and their runs, candidates and dedupe. Qualifying has its own module under ./qualify.
 * `SourcingRunMetrics` (the beat's gauges) is provided by whoever exports them (the beat).
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
export class SourcingModule implements OnModuleInit {
  /** The counters exist from boot (with no sample yet), so a scrape always lists them. */
  onModuleInit(): void {
    sourcingCandidates();
    sourcingRequests();
    sourcingRequalified();
    for (const outcome of RECOVERY_OUTCOMES) sourcingRunRecoveries().inc({ outcome }, 0);
  }
}

export { SourcingRunMetrics };
