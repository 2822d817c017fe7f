import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { JobHandlerRegistry, QueueProcessor, QUEUES } from '@herald/queues';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';

@Processor(QUEUES.system, { autorun: false })
export class SystemProcessor extends QueueProcessor {
  protected readonly queueName = QUEUES.system;

  constructor(
    registry: JobHandlerRegistry,
    metrics: HeraldMetrics,
    @Inject(HERALD_CONFIG) config: HeraldConfig,
    logger: HeraldLogger,
  ) {
    super(registry, metrics, config, logger);
  }

  protected concurrency(): number {
    return this.config.queues.concurrency.system;
  }
}
