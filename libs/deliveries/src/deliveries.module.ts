import { Module } from '@nestjs/common';
import { ChannelsModule } from '@herald/channels';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { RateLimitModule } from '@herald/rate-limit';
import { ResilienceModule } from '@herald/resilience';
import { TelemetryModule } from '@herald/telemetry';
import { TimeModule } from '@herald/time';
import { AccountSeriesCheck } from './account-series.check';
import { EventSeries } from './event-series';
import { DeliveryPipeline } from './delivery-pipeline';
import { DeliveryReconciler } from './delivery-reconciler';
import { FairDispatcher } from './fair/fair-dispatcher';
import { FairQueueMetrics } from './fair/fair-metrics';
import { FairQueue } from './fair/fair-queue';
import { FanoutService } from './fanout.service';
import { LedgerRepository } from './ledger.repository';
import { OutboxMetrics } from './outbox-metrics';
import { OutboxRelay } from './outbox-relay';
import { PublicLinks } from './render/links/public-links';
import { MessageRenderer } from './render/message-renderer';
import { RunPort } from './run-port';
import { SenderAccountsRepository } from './sender-accounts.repository';
import { RunDeliveries } from './run-deliveries';
import { UnknownDeliveries } from './unknown-deliveries';
import { UnknownDeliveriesMetrics } from './unknown-metrics';

/**
 * The delivery engine: ledger, sender accounts, fan-out, the send pipeline, the message renderer
 * and the outbox relay. Runs belong to campaigns, which registers with RunPort.
 */
@Module({
  imports: [
    PersistenceModule,
    QueuesModule,
    TelemetryModule,
    TimeModule,
    RateLimitModule,
    ResilienceModule,
    ChannelsModule,
  ],
  providers: [
    AccountSeriesCheck,
    EventSeries,
    LedgerRepository,
    SenderAccountsRepository,
    FairQueue,
    FairDispatcher,
    FairQueueMetrics,
    FanoutService,
    DeliveryPipeline,
    DeliveryReconciler,
    OutboxMetrics,
    OutboxRelay,
    RunDeliveries,
    UnknownDeliveries,
    UnknownDeliveriesMetrics,
    MessageRenderer,
    {
      provide: PublicLinks,
      inject: [HERALD_CONFIG],
      useFactory: (c: HeraldConfig) => PublicLinks.fromConfig(c),
    },
    RunPort,
  ],
  exports: [
    LedgerRepository,
    SenderAccountsRepository,
    FairQueue,
    FairDispatcher,
    FanoutService,
    DeliveryPipeline,
    DeliveryReconciler,
    OutboxRelay,
    RunDeliveries,
    UnknownDeliveries,
    MessageRenderer,
    PublicLinks,
    RunPort,
  ],
})
export class DeliveriesModule {}
