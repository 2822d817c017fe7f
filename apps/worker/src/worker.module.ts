import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { CampaignsModule } from '@herald/campaigns';
import { DeliveriesModule } from '@herald/deliveries';
import type { HeraldConfig } from '@herald/config';
import { PersistenceModule } from '@herald/persistence';
import { QUEUE_NAMES, QueuesModule, type QueueName, type QueueProcessor } from '@herald/queues';
import { QualifyModule, SourcingModule } from '@herald/sourcing';
import { TelemetryModule } from '@herald/telemetry';
import { DeliveryHandlers } from './delivery.handlers';
import { SourcingQualifyHandlers } from './sourcing-qualify.handlers';
import { SourcingHandlers } from './sourcing.handlers';
import { SystemHandlers } from './system.handlers';
import { DeliveriesProcessor, RunsProcessor, SourcingProcessor, SystemProcessor } from './processors';

/** One processor per queue; the type makes a queue without a processor a compile error. */
const PROCESSORS: Record<QueueName, Type<QueueProcessor>> = {
  system: SystemProcessor,
  runs: RunsProcessor,
  deliveries: DeliveriesProcessor,
  sourcing: SourcingProcessor,
};

/** The queues this worker consumes: WORKER_QUEUES, or all. Unknown names fail the boot. */
export function consumedQueues(config: HeraldConfig): QueueName[] {
  if (config.queues.consume.length === 0) return [...QUEUE_NAMES];
  const unknown = config.queues.consume.filter((q) => !QUEUE_NAMES.includes(q as QueueName));
  if (unknown.length > 0)
    throw new Error(
      `WORKER_QUEUES names unknown queues: ${unknown.join(', ')} (known: ${QUEUE_NAMES.join(', ')})`,
    );
  return config.queues.consume as QueueName[];
}

@Module({})
export class WorkerModule {
  static register(queues: readonly QueueName[]): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        DeliveriesModule,
        CampaignsModule,
        SourcingModule,
        QualifyModule,
        PersistenceModule,
        QueuesModule,
        TelemetryModule,
      ],
      providers: [
        SystemHandlers,
        DeliveryHandlers,
        SourcingHandlers,
        SourcingQualifyHandlers,
        ...queues.map((q) => PROCESSORS[q]),
      ],
    };
  }
}
