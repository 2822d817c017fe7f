import { Module } from '@nestjs/common';
import { DeliveryPipeline } from './delivery-pipeline';
import { DeliveryReconciler } from './delivery-reconciler';
import { FanoutService } from './fanout.service';
import { LedgerRepository } from './ledger.repository';
import { SenderAccountsRepository } from './sender-accounts.repository';

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
  ],
  exports: [LedgerRepository, SenderAccountsRepository, FanoutService, DeliveryPipeline, DeliveryReconciler],
})
export class DeliveriesModule {}
