import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { JobHandlerRegistry, QueueProcessor, QUEUES } from '@herald/queues';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';

@Processor(QUEUES.runs, { autorun: false })
export class RunsProcessor extends QueueProcessor {
  protected readonly queueName = QUEUES.runs;

  constructor(
    registry: JobHandlerRegistry,
    metrics: HeraldMetrics,
    @Inject(HERALD_CONFIG) config: HeraldConfig,
    logger: HeraldLogger,
  ) {
    super(registry, metrics, config, logger);
  }

  protected concurrency(): number {
    return this.config.queues.concurrency.runs;
  }
}

@Processor(QUEUES.deliveries, { autorun: false })
export class DeliveriesProcessor extends QueueProcessor {
  protected readonly queueName = QUEUES.deliveries;

  constructor(
    registry: JobHandlerRegistry,
    metrics: HeraldMetrics,
    @Inject(HERALD_CONFIG) config: HeraldConfig,
    logger: HeraldLogger,
  ) {
    super(registry, metrics, config, logger);
  }

  protected concurrency(): number {
    return this.config.queues.concurrency.deliveries;
  }
}
