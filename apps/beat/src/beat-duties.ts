import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { CampaignSchedules } from '@herald/campaigns';
import { DeliveryReconciler, OutboxRelay } from '@herald/deliveries';
import { Experiments, RollupFolder, WeeklyReportScheduler } from '@herald/engagement';
import { QuotaService } from '@herald/rate-limit';
import { EnrollmentTicker } from '@herald/sequences';
import {
  lostJobQuietMs,
  SourcingLostQualifyJobs,
  SourcingLostRunJobs,
  SourcingRunReconciler,
  SourcingSchedules,
} from '@herald/sourcing';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';
import { Housekeeping } from './housekeeping';
import { LeaderLease } from './leader-lease';

interface Duty {
  name: string;
  intervalMs: number;
  /** Returns how many items it acted on. */
  run(): Promise<number>;
}

/** Stale quota reservations are settled once no attempt can still be deciding them. */
const RESERVATION_STALE_MS = 10 * 60_000;

/**
 * The leading beat's periodic duties. Every replica keeps the timers, but a tick does work only
 * while this process holds the leader lease, so the fleet runs each duty once, and a standby
 * that takes over carries on at its next tick. A duty never overlaps itself.
 */
@Injectable()
export class BeatDuties implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<string>();
  private readonly duties: Duty[];

  constructor(
    private readonly lease: LeaderLease,
    reconciler: DeliveryReconciler,
    outbox: OutboxRelay,
    quota: QuotaService,
    ticker: EnrollmentTicker,
    schedules: CampaignSchedules,
    sourcingSchedules: SourcingSchedules,
    sourcingRuns: SourcingRunReconciler,
    sourcingLostJobs: SourcingLostRunJobs,
    sourcingQualify: SourcingLostQualifyJobs,
    experiments: Experiments,
    weeklyReports: WeeklyReportScheduler,
    housekeeping: Housekeeping,
    rollups: RollupFolder,
    @Inject(HERALD_CONFIG) config: HeraldConfig,
    private readonly metrics: HeraldMetrics,
    private readonly logger: HeraldLogger,
  ) {
    const every = config.beat.sweepIntervalMs;
    this.duties = [
      // Accepted work (a 202 answered) whose enqueue failed, Redis being down at that moment.
      { name: 'outbox-relay', intervalMs: every, run: () => outbox.dispatchPending(500) },
      {
        name: 'stalled-deliveries',
        intervalMs: every,
        run: () => reconciler.sweep({ quietMs: config.beat.deliveryStallMs, limit: 5000 }),
      },
      {
        name: 'quota-reservations',
        intervalMs: every,
        run: async () => {
          const { committed, refunded } = await reconciler.settleReservations({
            olderThanMs: RESERVATION_STALE_MS,
            limit: 1000,
          });
          return committed + refunded;
        },
      },
      // Campaign schedules → BullMQ job schedulers, and a fire for any slot left without its run.
      { name: 'schedules', intervalMs: every, run: () => schedules.reconcile() },
      // Sourcing job schedules, the same way.
      { name: 'sourcing-schedules', intervalMs: every, run: () => sourcingSchedules.reconcile() },
      // Sourcing runs whose job BullMQ failed for good (a crasher, its last attempt): handed back or failed.
      { name: 'sourcing-runs', intervalMs: every, run: () => sourcingRuns.sweep() },
      // Active sourcing runs whose job Redis lost (or that completed before the search was over): added again.
      {
        name: 'sourcing-lost-jobs',
        intervalMs: every,
        run: () => sourcingLostJobs.sweep({ quietMs: lostJobQuietMs(config) }),
      },
      // Open candidates whose qualify job Redis lost or BullMQ failed for good: added again,
      // handed back, or closed as not qualified. The same quiet period: the outbox relay's turn
      // at a new batch, and a worker still running a batch whose job vanished stops first.
      {
        name: 'sourcing-qualify',
        intervalMs: every,
        run: () => sourcingQualify.sweep({ quietMs: lostJobQuietMs(config) }),
      },
      // Sequence steps that are due become deliveries.
      { name: 'enrollment-ticker', intervalMs: config.beat.tickIntervalMs, run: () => ticker.tick(1000) },
      // A/B/n experiments: a winner recorded once the z-test calls it, promoted where the step asks.
      {
        name: 'experiments',
        intervalMs: config.beat.experimentsIntervalMs,
        run: () => experiments.evaluateOpen(),
      },
      // Each tenant's weekly report, once per ISO week, from Monday morning in its zone.
      { name: 'weekly-reports', intervalMs: every, run: () => weeklyReports.run() },
      { name: 'quota-purge', intervalMs: Math.max(every, 600_000), run: () => quota.purgeExpired() },
      {
        name: 'idempotency-purge',
        intervalMs: Math.max(every, 60_000),
        run: () => housekeeping.expiredIdempotencyKeys(),
      },
      {
        name: 'outbox-purge',
        intervalMs: Math.max(every, 600_000),
        run: () => housekeeping.dispatchedOutbox(),
      },
      // Analytics deltas (appended by sends and engagement events) into the rollups.
      { name: 'analytics-fold', intervalMs: config.beat.analyticsFoldIntervalMs, run: () => rollups.fold() },
      { name: 'job-retention', intervalMs: Math.max(every, 600_000), run: () => housekeeping.finishedJobs() },
    ];
  }

  onApplicationBootstrap(): void {
    for (const duty of this.duties) {
      const timer = setInterval(() => void this.tick(duty), duty.intervalMs);
      timer.unref();
      this.timers.push(timer);
    }
    // Take over promptly: a new leader runs its duties as soon as it leads.
    this.lease.onChange((leader) => {
      if (leader) for (const duty of this.duties) void this.tick(duty);
    });
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearInterval(timer);
  }

  private async tick(duty: Duty): Promise<void> {
    if (!this.lease.isLeader() || this.running.has(duty.name)) return;
    this.running.add(duty.name);
    try {
      const items = await duty.run();
      this.metrics.beatDutyRuns.inc({ duty: duty.name, outcome: 'ok' });
      if (items > 0) this.metrics.beatDutyItems.inc({ duty: duty.name }, items);
    } catch (error) {
      this.metrics.beatDutyRuns.inc({ duty: duty.name, outcome: 'error' });
      this.logger.warn({ duty: duty.name, err: { message: (error as Error).message } }, 'beat duty failed');
    } finally {
      this.running.delete(duty.name);
    }
  }
}
