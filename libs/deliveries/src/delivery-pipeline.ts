import { Inject, Injectable } from '@nestjs/common';
import { ChannelRegistry } from '@herald/channels';
import { QuotaService } from '@herald/rate-limit';
import { CircuitBreaker } from '@herald/resilience';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';
import { CLOCK, type Clock } from '@herald/time';
import { LedgerRepository } from './ledger.repository';
import { MicroBatcher } from './micro-batcher';
import { OutcomeRecorder } from './outcome-recorder';
import { MessageRenderer } from './render/message-renderer';
import { resolveAccounts } from './pipeline/account';
import { BreakerStage, circuitId, circuitOf, type CircuitTally } from './pipeline/breaker';
import { ClaimStage } from './pipeline/claim';
import { BatchDecisions } from './pipeline/decisions';
import { loadBatch } from './pipeline/load';
import { precheckBatch } from './pipeline/precheck';
import { QuotaStage } from './pipeline/quota';
import { RecordStage } from './pipeline/record';
import { renderBatch } from './pipeline/render';
import { sendOne } from './pipeline/send';
import { SettleStage } from './pipeline/settle';
import {
  ref,
  type Claim,
  type DeliveryJob,
  type DeliveryOutcome,
  type Ready,
  type Step,
} from './pipeline/types';
import { insideSendWindow } from './pipeline/window';
import { groupBy, inLanes } from './send-lanes';
import { SenderAccountsRepository } from './sender-accounts.repository';
import { errorText } from './stage-errors';
import { retryTransient } from './transient-retry';

export type { DeliveryJob, DeliveryOutcome } from './pipeline/types';

/** How long the first job of a batch waits for others: a few ms of latency buys far fewer round trips. */
const LINGER_MS = 5;
const MAX_BATCH = 500;
/** Sends of an at-most-once account at once, for a channel that does not say how many it has on the wire. */
const AT_MOST_ONCE_LANES = 16;
/** How long a step keeps retrying a refused Postgres or Redis call before the batch goes back to the queue. */
const STAGE_BUDGET_MS = 5000;

/**
 * The life of a delivery (DESIGN §5), for a batch of jobs at a time, as named stages
 * (./pipeline): load → precheck → account → window → breaker → quota → render → claim → send →
 * record → settle. Every database and Redis step is one round trip per batch (or per sender
 * account in it), so throughput is bounded by the provider, not by bookkeeping. The claim comes
 * just before the send, and each send's outcome is recorded as soon as the provider answered.
 * Provider errors: transient ones release the claim, refund the quota, count against the
 * breaker and come back after a backoff; after the last attempt, and on permanent errors, the
 * delivery is `failed`. Postgres and Redis refusals are retried per step (stage-errors.ts);
 * none fails a delivery. A `sending` delivery whose lease ran out (its attempt died) is sent
 * again only where its account is at-least-once; otherwise it is held as `unknown`.
 */
@Injectable()
export class DeliveryPipeline {
  private readonly batcher = new MicroBatcher<DeliveryJob, DeliveryOutcome>(
    (jobs) => this.processBatch(jobs),
    MAX_BATCH,
    LINGER_MS,
  );
  private readonly step: Step = (name, work, options = {}) =>
    retryTransient(name, work, {
      ...(options.untilDone ? {} : { budgetMs: STAGE_BUDGET_MS }),
      onRetry: (error, attempt) => this.retrying(name, error, attempt),
    });
  private readonly breakerStage: BreakerStage;
  private readonly quotaStage: QuotaStage;
  private readonly claimStage: ClaimStage;
  private readonly recordStage: RecordStage;
  private readonly settleStage: SettleStage;

  /**
   * Deliveries in this process's pipeline right now, at most QUEUE_CONCURRENCY_DELIVERIES
   * whether they come one per job or by the page: it bounds memory, and what a crash can leave
   * sent but unrecorded (a provider without idempotency would see those again).
   */
  private inFlight = 0;
  private readonly queued: (() => void)[] = [];

  constructor(
    private readonly ledger: LedgerRepository,
    private readonly accounts: SenderAccountsRepository,
    quota: QuotaService,
    breaker: CircuitBreaker,
    private readonly channels: ChannelRegistry,
    private readonly metrics: HeraldMetrics,
    private readonly logger: HeraldLogger,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(HERALD_CONFIG) config: HeraldConfig,
    private readonly renderer: MessageRenderer,
  ) {
    const warn = (message: string, details: Record<string, unknown>) => this.logger.warn(details, message);
    this.breakerStage = new BreakerStage(breaker, (message, error) =>
      warn(message, { err: { message: errorText(error) } }),
    );
    this.quotaStage = new QuotaStage(quota, this.step, warn);
    this.claimStage = new ClaimStage(ledger, config.delivery.sendLeaseMs, this.step);
    const recorder = new OutcomeRecorder(ledger, (what, error, attempt) =>
      this.retrying(what, error, attempt),
    );
    this.recordStage = new RecordStage(recorder, ledger, this.step, () => this.clock.nowMs());
    this.settleStage = new SettleStage(this.quotaStage, this.breakerStage, ledger, metrics, this.step);
    this.concurrency = config.queues.concurrency.deliveries;
  }

  private readonly concurrency: number;

  async handle(job: DeliveryJob): Promise<Exclude<DeliveryOutcome, { kind: 'again' }>> {
    await this.enter();
    try {
      for (;;) {
        const outcome = await this.batcher.submit(job);
        if (outcome.kind !== 'again') return outcome;
      }
    } finally {
      this.leave();
    }
  }

  private async enter(): Promise<void> {
    if (this.inFlight < this.concurrency) {
      this.inFlight += 1;
      return;
    }
    // The slot is handed over by `leave`, so the count stays the same.
    await new Promise<void>((resolve) => this.queued.push(resolve));
  }

  private leave(): void {
    const next = this.queued.shift();
    if (next) next();
    else this.inFlight -= 1;
  }

  private async processBatch(jobs: DeliveryJob[]): Promise<DeliveryOutcome[]> {
    const decisions = new BatchDecisions();
    const contexts = await loadBatch(this.ledger, this.step, jobs);
    const now = this.clock.nowMs();
    const candidates = precheckBatch(contexts, now, decisions);
    const accounted = await resolveAccounts(this.accounts, this.step, candidates, now, decisions);
    const open = insideSendWindow(accounted, now, decisions);
    // Breakers and quotas work per account (and run, for the run cap).
    const admitted: Ready[] = [];
    const gated = await Promise.allSettled(
      [...groupBy(open, (r) => `${r.account.tenantId}:${r.account.id}:${r.ctx.runId ?? ''}`).values()].map(
        async (group) => {
          const passing = await this.breakerStage.gate(group, now, decisions);
          if (passing.length > 0) admitted.push(...(await this.quotaStage.reserve(passing, decisions)));
        },
      ),
    );
    const gateFailure = gated.find((g) => g.status === 'rejected');
    if (gateFailure) {
      // Hand the batch back to the queue: nothing was claimed, so nothing is left half-done.
      await this.quotaStage.settle(
        'refund',
        admitted.map((r) => r.reservation!),
      );
      throw gateFailure.reason;
    }
    let renderable: Ready[];
    try {
      renderable = renderBatch(admitted, decisions, this.renderer);
    } catch (error) {
      // A bug, not the template: the batch goes back to the queue, no delivery is failed on it.
      await this.quotaStage.settle(
        'refund',
        admitted.map((a) => a.reservation!),
      );
      throw error;
    }
    const varied = renderable.flatMap((r) => (r.variant ? [{ ...ref(r.ctx), variant: r.variant }] : []));
    if (varied.length > 0) {
      try {
        await this.step('variants', () => this.ledger.recordVariants(varied));
      } catch (error) {
        // Nothing was claimed or recorded yet: the batch goes back to the queue whole.
        await this.quotaStage.settle(
          'refund',
          admitted.map((a) => a.reservation!),
        );
        throw error;
      }
    }
    const tallies = new Map<string, CircuitTally>();
    const sendFailure = await this.sendAll(renderable, decisions, tallies);
    const movedToUnknown = await this.recordStage.decisions(decisions);
    await this.settleStage.afterSends(decisions, tallies.values(), movedToUnknown);
    // A claim or a record that failed for good (not an outage): the batch goes back to the queue.
    if (sendFailure) throw sendFailure.reason;
    await this.settleStage.finish(contexts, decisions);
    return jobs.map(
      (j) => decisions.outcomes.get(j.deliveryId) ?? { kind: 'noop', reason: 'unknown delivery' },
    );
  }

  /**
   * Claim → send → record per delivery, at most `lanes` per account at a time: where a repeat is
   * not allowed, what a crash leaves unknown is what was on the wire, not the whole batch.
   */
  private async sendAll(
    renderable: readonly Ready[],
    decisions: BatchDecisions,
    tallies: Map<string, CircuitTally>,
  ): Promise<PromiseRejectedResult | undefined> {
    const byAccount = groupBy(renderable, (r) => `${r.account.tenantId}:${r.account.id}`);
    const settled = await Promise.allSettled(
      [...byAccount.values()].map((group) =>
        inLanes(group, this.lanesFor(group[0]!), async (r) => {
          let claim: Claim | undefined;
          try {
            claim = await this.claimStage.claim(ref(r.ctx), r.ctx.status === 'sending');
          } finally {
            if (!claim) decisions.refunds.push(r.reservation!);
          }
          if (!claim) {
            decisions.decide(r.ctx, { kind: 'noop', reason: 'another attempt holds this delivery' });
            return;
          }
          const circuit = circuitOf(r);
          const id = circuitId(circuit);
          const tally = tallies.get(id) ?? { key: circuit, failures: 0, successes: 0 };
          tallies.set(id, tally);
          const stop = this.metrics.deliveryDuration.startTimer({ channel: r.account.channel });
          const verdict = await sendOne(this.channels, r, claim, tally).finally(stop);
          await this.recordStage.send(r, claim, verdict, decisions);
        }),
      ),
    );
    return settled.find((s) => s.status === 'rejected');
  }

  /**
   * How many of an account's deliveries are claimed and sending at once. Where a crash's unknown
   * outcome is held for an operator (at-most-once), no more than the channel has on the wire;
   * where a repeat is harmless, the whole batch.
   */
  private lanesFor(r: Ready): number {
    if (r.account.deliveryGuarantee === 'at_least_once') return Number.POSITIVE_INFINITY;
    return this.channels.has(r.account.channel)
      ? (this.channels.get(r.account.channel).maxInFlight ?? AT_MOST_ONCE_LANES)
      : 1;
  }

  private retrying(stage: string, error: unknown, attempt: number): void {
    this.metrics.deliveryStageRetries.inc({ stage });
    if (attempt === 1 || attempt % 10 === 0)
      this.logger.warn({ stage, attempt, err: { message: errorText(error) } }, 'delivery step retried');
  }
}
