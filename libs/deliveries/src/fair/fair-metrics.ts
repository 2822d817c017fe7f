import { Injectable, type OnModuleInit } from '@nestjs/common';
import { getOrCreateMetric } from '@herald/telemetry';
import { Gauge } from 'prom-client';
import { FairQueue, type FairQueueStats } from './fair-queue';

/**
 * `herald_fair_queue{measure}`: the fair queue read at scrape time. Fleet-wide figures only —
 * a label per tenant would grow the series with the tenant count; the largest backlog says
 * whether one tenant dominates, the logs and the ledger say which.
 */
@Injectable()
export class FairQueueMetrics implements OnModuleInit {
  constructor(private readonly fair: FairQueue) {}

  onModuleInit(): void {
    const fair = this.fair;
    const measures: Record<string, keyof FairQueueStats> = {
      active_tenants: 'activeTenants',
      queued_deliveries: 'queuedDeliveries',
      largest_tenant_backlog: 'largestBacklog',
      pages_in_flight: 'inFlight',
    };
    getOrCreateMetric(
      'herald_fair_queue',
      () =>
        new Gauge({
          name: 'herald_fair_queue',
          help: 'The fair delivery queue: tenants with deliveries waiting for a turn, deliveries waiting, the largest one tenant has waiting, and pages dispatched to the deliveries queue and not yet done.',
          labelNames: ['measure'],
          async collect() {
            const stats = await fair.stats().catch(() => undefined);
            if (!stats) return; // Redis away: keep the last values rather than report none
            for (const [measure, field] of Object.entries(measures)) this.set({ measure }, stats[field]);
          },
        }),
    );
  }
}
