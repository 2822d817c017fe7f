import { Injectable } from '@nestjs/common';
import { CampaignSchedules, type FireOutcome } from '@herald/campaigns';
import {
  DeliveryPipeline,
  FairDispatcher,
  FanoutService,
  pageId,
  type FanoutResult,
} from '@herald/deliveries';
import { JobProducer, OnJob, type JobPayloads } from '@herald/queues';
import { DelayedError, type Job } from 'bullmq';

/** Deliveries of a page handed to the pipeline at once (memory stays bounded per job). */
const PAGE_SLICE = 125;
/** A fan-out paused by its tenant's full backlog looks again this much later. */
const FANOUT_RESUME_MS = 500;

@Injectable()
export class DeliveryHandlers {
  constructor(
    private readonly fanout: FanoutService,
    private readonly pipeline: DeliveryPipeline,
    private readonly schedules: CampaignSchedules,
    private readonly producer: JobProducer,
    private readonly dispatcher: FairDispatcher,
  ) {}

  /** A schedule slot: from a job scheduler (the slot is the job's `prevMillis`) or the beat's catch-up. */
  @OnJob('campaigns.fire')
  async fire(
    payload: JobPayloads['campaigns.fire'],
    job: Job,
  ): Promise<{ outcome: FireOutcome; runId?: string }> {
    const slot = payload.slot
      ? Date.parse(payload.slot)
      : (job.opts.prevMillis ?? job.timestamp + (job.delay ?? 0));
    return this.schedules.fire(payload.tenant_id, payload.campaign_id, slot);
  }

  /**
   * A run's fan-out, as far as its tenant's backlog allows: paused, the job waits (not an
   * attempt) and resumes from the run's cursor, leaving the runs worker to other tenants' runs.
   */
  @OnJob('runs.fanout')
  async fanOut(payload: JobPayloads['runs.fanout'], job: Job, token?: string): Promise<FanoutResult> {
    const result = await this.fanout.fanout(payload.tenant_id, payload.run_id);
    if (result.paused) {
      await job.moveToDelayed(Date.now() + FANOUT_RESUME_MS, token);
      throw new DelayedError('tenant backlog full');
    }
    return result;
  }

  /**
   * A page of a run's deliveries, through the pipeline a slice at a time (the pipeline batches
   * across all jobs in flight). Those that must wait continue as their own delayed
   * `deliveries.send` jobs, enqueued before this job completes: a crash before that repeats the
   * page, which the ledger makes harmless. Done, the page frees its slot in the fair window and
   * the next tenant's page is dispatched.
   */
  @OnJob('deliveries.page')
  async sendPage(payload: JobPayloads['deliveries.page']): Promise<Record<string, number>> {
    const tally: Record<string, number> = {};
    const waiting: { id: string; until: number }[] = [];
    for (let i = 0; i < payload.delivery_ids.length; i += PAGE_SLICE) {
      const slice = payload.delivery_ids.slice(i, i + PAGE_SLICE);
      const outcomes = await Promise.all(
        slice.map((id) => this.pipeline.handle({ tenantId: payload.tenant_id, deliveryId: id })),
      );
      outcomes.forEach((outcome, k) => {
        tally[outcome.kind] = (tally[outcome.kind] ?? 0) + 1;
        if (outcome.kind === 'delay') waiting.push({ id: slice[k]!, until: outcome.until });
      });
    }
    if (waiting.length > 0) {
      const until = new Map(waiting.map((w) => [w.id, w.until]));
      await this.producer.enqueueBulk(
        'deliveries.send',
        waiting.map((w) => ({ tenant_id: payload.tenant_id, delivery_id: w.id })),
        (p) => (until.get(p.delivery_id) ?? Date.now()) - Date.now(),
      );
    }
    await this.dispatcher.done([pageId(payload)]);
    return tally;
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
