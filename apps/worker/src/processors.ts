import { Processor } from '@nestjs/bullmq';
import { QueueProcessor, QUEUES } from '@herald/queues';

/** One WorkerHost per queue; the shared behaviour (tracing, metrics, shutdown) is QueueProcessor's. */
@Processor(QUEUES.system, { autorun: false })
export class SystemProcessor extends QueueProcessor {
  protected readonly queueName = QUEUES.system;
}

@Processor(QUEUES.runs, { autorun: false })
export class RunsProcessor extends QueueProcessor {
  protected readonly queueName = QUEUES.runs;
}

@Processor(QUEUES.deliveries, { autorun: false })
export class DeliveriesProcessor extends QueueProcessor {
  protected readonly queueName = QUEUES.deliveries;
}
