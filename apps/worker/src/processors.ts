import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { FairDispatcher } from '@herald/deliveries';
import { QueueProcessor, QUEUES } from '@herald/queues';

/** How often a deliveries worker fills the fair window and checks overdue pages (the safety net). */
const FAIR_TICK_MS = 1000;

/** One WorkerHost per queue; the shared behaviour (tracing, metrics, shutdown) is QueueProcessor's. */
@Processor(QUEUES.system, { autorun: false })
export class SystemProcessor extends QueueProcessor {
  protected readonly queueName = QUEUES.system;
}

@Processor(QUEUES.runs, { autorun: false })
export class RunsProcessor extends QueueProcessor {
  protected readonly queueName = QUEUES.runs;
}

@Processor(QUEUES.sourcing, { autorun: false })
export class SourcingProcessor extends QueueProcessor {
  protected readonly queueName = QUEUES.sourcing;
}

/**
 * The deliveries queue's worker also keeps the fair window full: pages are dispatched on each
 * push and each page done, and on this timer after anything those missed (a crash, an outage).
 */
@Processor(QUEUES.deliveries, { autorun: false })
export class DeliveriesProcessor extends QueueProcessor {
  protected readonly queueName = QUEUES.deliveries;
  // A property, not a constructor parameter: the base's constructor metadata stays the one Nest reads.
  @Inject(FairDispatcher) private readonly dispatcher!: FairDispatcher;
  private tick: NodeJS.Timeout | undefined;
  private tickFailures = 0;

  override onApplicationBootstrap(): void {
    super.onApplicationBootstrap();
    this.tick = setInterval(() => void this.fairTick(), FAIR_TICK_MS);
    this.tick.unref();
  }

  override async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.tick);
    await super.beforeApplicationShutdown();
  }

  private async fairTick(): Promise<void> {
    try {
      await this.dispatcher.pump();
      await this.dispatcher.reap();
      this.tickFailures = 0;
    } catch (error) {
      // Once per outage and then every 30 ticks: a Redis outage must not flood the log.
      if (this.tickFailures++ % 30 === 0)
        this.logger.warn({ err: { message: (error as Error).message } }, 'fair dispatch tick failed');
    }
  }
}
