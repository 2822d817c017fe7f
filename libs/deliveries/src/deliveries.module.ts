import { Module } from '@nestjs/common';
import { DeliveryPipeline } from './delivery-pipeline';
import { DeliveryReconciler } from './delivery-reconciler';
import { FanoutService } from './fanout.service';
import { LedgerRepository } from './ledger.repository';
import { OutboxMetrics } from './outbox-metrics';
import { OutboxRelay } from './outbox-relay';
import { SenderAccountsRepository } from './sender-accounts.repository';
import { UnknownDeliveries } from './unknown-deliveries';
import { UnknownDeliveriesMetrics } from './unknown-metrics';

/**
 * The delivery engine: ledger, sender accounts, fan-out and the send pipeline. Needs the
 * persistence, queues, telemetry, time, rate-limit, resilience and channels modules.
 */
@Module({
  providers: [
    LedgerRepository,
    SenderAccountsRepository,
    FanoutService,
    DeliveryPipeline,
    DeliveryReconciler,
    OutboxMetrics,
    OutboxRelay,
    UnknownDeliveries,
    UnknownDeliveriesMetrics,
  ],
  exports: [
    LedgerRepository,
    SenderAccountsRepository,
    FanoutService,
    DeliveryPipeline,
    DeliveryReconciler,
    OutboxRelay,
    UnknownDeliveries,
  ],
})
export class DeliveriesModule {}
