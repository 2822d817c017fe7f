import { Injectable } from '@nestjs/common';
import { DeliveryPipeline, FanoutService } from '@herald/deliveries';
import { OnJob, type JobPayloads } from '@herald/queues';
import { DelayedError, type Job } from 'bullmq';

@Injectable()
export class DeliveryHandlers {
  constructor(
    private readonly fanout: FanoutService,
    private readonly pipeline: DeliveryPipeline,
  ) {}

  @OnJob('runs.fanout')
  async fanOut(payload: JobPayloads['runs.fanout']): Promise<{ targeted: number; enqueued: number }> {
    return this.fanout.fanout(payload.tenant_id, payload.run_id);
  }

  /**
   * A wait (breaker open, quota window, an attempt in progress) moves the job to the delayed
   * set without counting as an attempt; everything else completes the job with its outcome.
   */
  @OnJob('deliveries.send')
  async send(payload: JobPayloads['deliveries.send'], job: Job, token?: string): Promise<string> {
    const outcome = await this.pipeline.handle({
      tenantId: payload.tenant_id,
      deliveryId: payload.delivery_id,
    });
    if (outcome.kind === 'delay') {
      await job.moveToDelayed(Math.max(outcome.until, Date.now() + 10), token);
      throw new DelayedError(outcome.reason);
    }
    return outcome.kind === 'sent' ? 'sent' : `${outcome.kind}: ${outcome.reason}`;
  }
}
