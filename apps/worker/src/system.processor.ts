import { Processor } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { JobHandlerRegistry, QueueProcessor, QUEUES } from '@herald/queues';
import { HeraldMetrics } from '@herald/telemetry';
import { PinoLogger } from 'nestjs-pino';

@Processor(QUEUES.system, { autorun: false })
export class SystemProcessor extends QueueProcessor {
  protected readonly queueName = QUEUES.system;

  constructor(
    registry: JobHandlerRegistry,
    metrics: HeraldMetrics,
    @Inject(HERALD_CONFIG) config: HeraldConfig,
    logger: PinoLogger,
  ) {
    super(registry, metrics, config, logger);
  }

  protected concurrency(): number {
    return this.config.queues.concurrency.system;
  }
}
