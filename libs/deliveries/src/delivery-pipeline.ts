import { Inject, Injectable } from '@nestjs/common';
import {
  ChannelRegistry,
  PermanentChannelError,
  UnknownChannelError,
  type ChannelName,
  type OutboundMessage,
  type SendResult,
} from '@herald/channels';
import { QuotaService, type Reservation } from '@herald/rate-limit';
import { CircuitBreaker, retryDelay, type CircuitKey } from '@herald/resilience';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';
import { CLOCK, isInsideWindow, nextOpening, type Clock } from '@herald/time';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  LedgerRepository,
  SETTLED_STATUSES,
  type DeliveryContext,
  type DeliveryRef,
} from './ledger.repository';
import { MicroBatcher } from './micro-batcher';
import { OutcomeRecorder } from './outcome-recorder';
import { groupBy, inLanes } from './send-lanes';
import { classifySendError } from './send-errors';
import {
  defaultGuarantee,
  SenderAccountsRepository,
  type DeliveryGuarantee,
  type SendingAccount,
} from './sender-accounts.repository';
import { errorText } from './stage-errors';
import { retryTransient } from './transient-retry';
import { sendWindowSpec } from './send-window';
import { MessageRenderer } from './render/message-renderer';
import { TemplateError } from './template';

export interface DeliveryJob {
  tenantId: string;
  deliveryId: string;
}

/** What the queue should do with the job once its delivery has been through the pipeline. */
export type DeliveryOutcome =
  | { kind: 'sent' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; reason: string }
  /** Held for an operator: a crash left the send's outcome unknown and the account takes no repeat. */
  | { kind: 'unknown'; reason: string }
  | { kind: 'noop'; reason: string }
  /** Not an attempt: come back at `until` (breaker open, quota window, lease held, paused). */
  | { kind: 'delay'; until: number; reason: string }
  /** Internal: beyond the account's send window this round; goes into the next batch. */
  | { kind: 'again' };

const PAUSED_RECHECK_MS = 60_000;
/** Deliveries held back while a half-open breaker's single probe is in flight. */
const PROBE_WAIT_MS = 1000;
/**
 * Sends per sender account in one batch start at one and double with each fully successful
 * batch (slow start); a transient failure brings them back to one. A provider that goes down
 * then sees a handful of failed calls before the breaker opens, not a whole batch.
 */
const MAX_SEND_WINDOW = 512;
/** How long the first job of a batch waits for others: a few ms of latency buys far fewer round trips. */
const LINGER_MS = 5;
/** How long a claim waits for the claims of other sends starting at the same moment. */
const CLAIM_LINGER_MS = 1;
/** Sends of an at-most-once account at once, for a channel that does not say how many it has on the wire. */
const AT_MOST_ONCE_LANES = 16;
/** How long a step keeps retrying a refused Postgres or Redis call before the batch goes back to the queue. */
const STAGE_BUDGET_MS = 5000;
const UNKNOWN_REASON =
  'outcome unknown: the attempt sending it stopped before recording whether the provider accepted it; not sent again until an operator resends or closes it';

/** A delivery this process holds for one attempt: the attempt number, and its claim's token. */
interface Claim {
  attempt: number;
  token: string;
}

interface Ready {
  ctx: DeliveryContext;
  account: SendingAccount;
  reservation?: Reservation;
  message?: OutboundMessage;
}

/**
 * The life of a delivery (DESIGN §5), for a batch of jobs at a time: every database and Redis
 * step is one round trip per batch (or per sender account in it), so throughput is bounded by
 * the provider, not by bookkeeping. Order per delivery: suppression → breaker → quota →
 * render → claim (`sending`, just before the send) → send with the delivery key as idempotency
 * key → `sent` and its interaction, recorded as soon as the provider answered → quota commit.
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
    500,
    LINGER_MS,
  );

  constructor(
    private readonly ledger: LedgerRepository,
    private readonly accounts: SenderAccountsRepository,
    private readonly quota: QuotaService,
    private readonly breaker: CircuitBreaker,
    private readonly channels: ChannelRegistry,
    private readonly metrics: HeraldMetrics,
    private readonly logger: HeraldLogger,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly renderer: MessageRenderer,
  ) {
    this.recorder = new OutcomeRecorder(ledger, (what, error, attempt) =>
      this.retrying(what, error, attempt),
    );
  }

  /** Each send's outcome, written as soon as the provider answered. */
  private readonly recorder: OutcomeRecorder;

  /**
   * Claims of the sends about to start, across batches and accounts, in one statement per few
   * milliseconds. Each statement is one attempt with its own token; it is never given up (a
   * claim that landed unseen would hold rows in `sending` with no send), and repeating it with
   * its token takes the same rows again.
   */
  private readonly claims = new MicroBatcher<DeliveryRef & { resendExpired: boolean }, Claim | undefined>(
    async (items) => {
      const token = randomUUID();
      const claimed = await this.stage(
        'claim',
        () => this.ledger.claim(items, this.config.delivery.sendLeaseMs, token),
        { untilDone: true },
      );
      return items.map((i) => {
        const attempt = claimed.get(i.id);
        return attempt === undefined ? undefined : { attempt, token };
      });
    },
    500,
    CLAIM_LINGER_MS,
  );

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

  /** Per circuit (channel and account): how many sends the next batch may make. */
  private readonly windows = new Map<string, number>();

  /**
   * Deliveries in this process's pipeline right now, at most QUEUE_CONCURRENCY_DELIVERIES
   * whether they come one per job or by the page: it bounds memory, and what a crash can leave
   * sent but unrecorded (a provider without idempotency would see those again).
   */
  private inFlight = 0;
  private readonly queued: (() => void)[] = [];

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
    if (this.inFlight < this.config.queues.concurrency.deliveries) {
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
    const outcomes = new Map<string, DeliveryOutcome>();
    const refs = unique(jobs.map((j) => ({ tenantId: j.tenantId, id: j.deliveryId })));
    const contexts = await this.stage('load', () => this.ledger.load(refs));
    const now = this.clock.nowMs();

    const settle = {
      skipped: [] as (DeliveryRef & { reason: string })[],
      cancelled: [] as (DeliveryRef & { reason: string })[],
    };
    const candidates: DeliveryContext[] = [];
    for (const ctx of contexts) {
      const verdict = this.precheck(ctx, now);
      switch (verdict.kind) {
        case 'go':
          candidates.push(ctx);
          break;
        case 'skipped':
          settle.skipped.push({ ...ref(ctx), reason: verdict.reason });
          outcomes.set(ctx.id, verdict);
          break;
        case 'cancel':
          settle.cancelled.push({ ...ref(ctx), reason: verdict.reason });
          outcomes.set(ctx.id, { kind: 'noop', reason: verdict.reason });
          break;
        case 'noop':
        case 'delay':
          outcomes.set(ctx.id, verdict);
          break;
      }
    }

    const defers: (DeliveryRef & { dueAt: Date; reason: string })[] = [];
    // Settled before any claim (no attempt holds them): unknown accounts, render errors.
    const failedUnclaimed: (DeliveryRef & { error: string; permanent: boolean })[] = [];
    const unknowns: (DeliveryRef & { reason: string })[] = [];
    // Sender accounts, breakers and quotas work per account (and run, for the run cap).
    const groups = new Map<string, Ready[]>();
    for (const ctx of candidates) {
      const account = await this.stage('account lookup', () =>
        this.accounts.forSending(ctx.tenantId, ctx.senderAccountId, now),
      );
      // Past precheck, `sending` means the attempt that held it died before recording its outcome.
      if (ctx.status === 'sending' && guaranteeOf(ctx, account) === 'at_most_once') {
        unknowns.push({ ...ref(ctx), reason: UNKNOWN_REASON });
        outcomes.set(ctx.id, { kind: 'unknown', reason: UNKNOWN_REASON });
        continue;
      }
      if (!account || account.status === 'disabled') {
        const reason = account
          ? `sender account ${ctx.senderAccountId} is disabled: enable it to send through it`
          : `sender account ${ctx.senderAccountId} does not exist (deleted): the campaign needs another account`;
        failedUnclaimed.push({ ...ref(ctx), error: reason, permanent: true });
        outcomes.set(ctx.id, { kind: 'failed', reason });
        continue;
      }
      if (account.status === 'paused') {
        outcomes.set(ctx.id, {
          kind: 'delay',
          until: now + PAUSED_RECHECK_MS,
          reason: 'sender account paused',
        });
        continue;
      }
      // Outside the campaign's send window (in its zone, else the account's): wait for the opening.
      const window = ctx.campaign.sendWindow;
      if (window) {
        const spec = sendWindowSpec(window, account.quota.timeZone);
        if (!isInsideWindow(spec, now)) {
          const opening = nextOpening(spec, now);
          defers.push({ ...ref(ctx), dueAt: opening, reason: 'outside the send window' });
          outcomes.set(ctx.id, { kind: 'delay', until: opening.getTime(), reason: 'send window closed' });
          continue;
        }
      }
      const key = `${account.tenantId}:${account.id}:${ctx.runId ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), { ctx, account }]);
    }

    const admitted: Ready[] = [];
    const gated = await Promise.allSettled(
      [...groups.values()].map(async (group) => {
        const first = group[0]!;
        const circuit: CircuitKey = { channel: first.account.channel, account: first.account.id };
        const gate = await this.breaker.acquire(circuit);
        let passing = group;
        if (!gate.allowed) {
          for (const r of group)
            outcomes.set(r.ctx.id, { kind: 'delay', until: gate.retryAt, reason: 'circuit open' });
          return;
        }
        // A half-open circuit allows its one probe; the others wait for its verdict.
        const window = gate.probe ? 1 : (this.windows.get(circuitId(circuit)) ?? 1);
        if (group.length > window) {
          passing = group.slice(0, window);
          for (const r of group.slice(window)) {
            outcomes.set(
              r.ctx.id,
              gate.probe
                ? { kind: 'delay', until: now + PROBE_WAIT_MS, reason: 'circuit half-open' }
                : { kind: 'again' },
            );
          }
        }
        const runCap =
          first.ctx.runId && first.ctx.campaign.runCap
            ? { runId: first.ctx.runId, limit: first.ctx.campaign.runCap }
            : undefined;
        // The same ids on every try: a reservation whose reply was lost is replayed, not taken twice.
        const ids = passing.map((r) => `${r.ctx.id}:${randomBytes(4).toString('hex')}`);
        const result = await this.stage('quota reserve', () =>
          this.quota.reserveBatch({
            account: first.account.quota,
            reservationIds: ids,
            ...(runCap ? { runCap } : {}),
          }),
        );
        const granted = new Map([...result.admitted, ...result.replayed].map((r) => [r.id, r]));
        passing.forEach((r, i) => {
          const reservation = granted.get(ids[i]!);
          if (reservation) {
            admitted.push({ ...r, reservation });
            return;
          }
          const denial = result.denial;
          if (denial?.reason === 'unavailable') {
            // Not a quota decision: Postgres could not lease units. Nothing changes in the ledger.
            outcomes.set(r.ctx.id, { kind: 'delay', until: denial.retryAt, reason: 'quota unavailable' });
          } else if (denial?.reason === 'quota' && r.ctx.campaign.quotaPolicy === 'defer') {
            defers.push({
              ...ref(r.ctx),
              dueAt: new Date(denial.retryAt),
              reason: `quota exhausted (${denial.exhausted.join(', ')})`,
            });
            outcomes.set(r.ctx.id, { kind: 'delay', until: denial.retryAt, reason: 'quota exhausted' });
          } else {
            const reason = denial?.reason === 'run_cap' ? 'run cap reached' : 'quota exhausted';
            settle.skipped.push({ ...ref(r.ctx), reason });
            outcomes.set(r.ctx.id, { kind: 'skipped', reason });
          }
        });
      }),
    );
    const gateFailure = gated.find((g) => g.status === 'rejected');
    if (gateFailure) {
      // Hand the batch back to the queue: nothing was claimed, so nothing is left half-done.
      await this.settleQuota(
        'refund',
        admitted.map((r) => r.reservation!),
      );
      throw gateFailure.reason;
    }

    // Render before claiming: a template error is permanent and needs no send.
    const refunds: Reservation[] = [];
    const renderable: Ready[] = [];
    for (const r of admitted) {
      try {
        r.message = this.renderer.message(
          { deliveryId: r.ctx.id, campaignId: r.ctx.campaignId, runId: r.ctx.runId },
          { step: r.ctx.step, content: r.ctx.campaign.content, contact: r.ctx.contact, sender: r.account },
        );
        renderable.push(r);
      } catch (error) {
        if (!(error instanceof TemplateError)) {
          // A bug, not the template: the batch goes back to the queue, no delivery is failed on it.
          await this.settleQuota(
            'refund',
            admitted.map((a) => a.reservation!),
          );
          throw error;
        }
        failedUnclaimed.push({ ...ref(r.ctx), error: error.message, permanent: true });
        outcomes.set(r.ctx.id, { kind: 'failed', reason: error.message });
        refunds.push(r.reservation!);
      }
    }
    const committed: Reservation[] = [];
    const transientByCircuit = new Map<string, { key: CircuitKey; failures: number; successes: number }>();
    // Claimed just before the send, at most `lanes` per account at a time: where a repeat is not
    // allowed, what a crash leaves unknown is what was on the wire, not the whole batch.
    const sendFailures = await Promise.allSettled(
      [...groupBy(renderable, (r) => `${r.account.tenantId}:${r.account.id}`).values()].map((group) =>
        inLanes(group, this.lanesFor(group[0]!), async (r) => {
          let claim: Claim | undefined;
          try {
            claim = await this.claims.submit({ ...ref(r.ctx), resendExpired: r.ctx.status === 'sending' });
          } finally {
            if (!claim) refunds.push(r.reservation!);
          }
          if (!claim) {
            outcomes.set(r.ctx.id, { kind: 'noop', reason: 'another attempt holds this delivery' });
            return;
          }
          const circuit = { channel: r.account.channel, account: r.account.id };
          const tally = transientByCircuit.get(`${circuit.channel}:${circuit.account}`) ?? {
            key: circuit,
            failures: 0,
            successes: 0,
          };
          transientByCircuit.set(`${circuit.channel}:${circuit.account}`, tally);
          const stop = this.metrics.deliveryDuration.startTimer({ channel: r.account.channel });
          let result: SendResult;
          try {
            result = await this.channels.get(r.account.channel).send(r.message!, {
              idempotencyKey: r.ctx.deliveryKey,
              account: { id: r.account.id, config: r.account.config },
            });
          } catch (error) {
            refunds.push(r.reservation!);
            const failure = classifySendError(error, claim.attempt);
            if (failure.kind === 'failed') {
              if (error instanceof PermanentChannelError)
                tally.successes += 1; // the provider answered: it is up
              else if (!(error instanceof UnknownChannelError)) tally.failures += 1;
              outcomes.set(r.ctx.id, { kind: 'failed', reason: failure.reason });
              await this.recorder.failed(
                { ...ref(r.ctx), error: failure.error, permanent: failure.permanent },
                claim.token,
              );
            } else {
              tally.failures += 1;
              outcomes.set(r.ctx.id, {
                kind: 'delay',
                until: this.clock.nowMs() + retryDelay(claim.attempt - 1, failure.retryAfterMs),
                reason: 'transient error',
              });
              await this.recorder.released({ ...ref(r.ctx), error: failure.reason }, claim.token);
            }
            return;
          } finally {
            stop();
          }
          tally.successes += 1;
          // Recorded as soon as the provider answered, not once the whole batch is done.
          await this.recorder.sent({ ...ref(r.ctx), providerMessageId: result.providerMessageId });
          outcomes.set(r.ctx.id, { kind: 'sent' });
          committed.push(r.reservation!);
        }),
      ),
    );
    const movedToUnknown = await this.stage('record', async () => {
      const [moved] = await Promise.all([
        this.ledger.markUnknown(unknowns),
        this.ledger.markFailed(failedUnclaimed),
        this.ledger.defer(defers),
        this.ledger.settle(settle.skipped, 'skipped'),
        this.ledger.settle(settle.cancelled, 'cancelled'),
      ]);
      return moved;
    });
    for (const m of movedToUnknown) this.metrics.deliveriesUnknown.inc({ channel: m.channel });
    await Promise.all([
      this.settleQuota('commit', committed),
      this.settleQuota('refund', refunds),
      ...[...transientByCircuit.values()].map((t) => this.recordCircuit(t)),
    ]);
    // A claim or a record that failed for good (not an outage): the batch goes back to the queue.
    const sendFailure = sendFailures.find((f) => f.status === 'rejected');
    if (sendFailure) throw sendFailure.reason;
    const runs = unique(
      contexts
        .filter((c) => c.runId && isFinal(outcomes.get(c.id)))
        .map((c) => ({ tenantId: c.tenantId, id: c.runId! })),
    );
    if (runs.length > 0) await this.stage('complete runs', () => this.ledger.completeRuns(runs));
    for (const ctx of contexts) {
      const outcome = outcomes.get(ctx.id);
      if (outcome && outcome.kind !== 'again')
        this.metrics.deliveries.inc({
          channel: ctx.channel,
          outcome: outcome.kind === 'delay' ? outcome.reason.replace(/ /g, '_') : outcome.kind,
        });
    }
    return jobs.map((j) => outcomes.get(j.deliveryId) ?? { kind: 'noop', reason: 'unknown delivery' });
  }

  /**
   * One step against Postgres or Redis: retried with backoff while they refuse it, then (past
   * STAGE_BUDGET_MS) a TransientStageError that hands the batch back to the queue. `untilDone`
   * steps are never given up: the claim, whose unseen success would strand rows in `sending`.
   */
  private stage<T>(name: string, work: () => Promise<T>, options: { untilDone?: boolean } = {}): Promise<T> {
    return retryTransient(name, work, {
      ...(options.untilDone ? {} : { budgetMs: STAGE_BUDGET_MS }),
      onRetry: (error, attempt) => this.retrying(name, error, attempt),
    });
  }

  private retrying(stage: string, error: unknown, attempt: number): void {
    this.metrics.deliveryStageRetries.inc({ stage });
    if (attempt === 1 || attempt % 10 === 0)
      this.logger.warn({ stage, attempt, err: { message: errorText(error) } }, 'delivery step retried');
  }

  /**
   * Commits or refunds reservations. One that cannot be settled now (Redis or Postgres away) is
   * left pending: the beat settles it from the ledger later, so it is logged, never thrown.
   */
  private async settleQuota(
    action: 'commit' | 'refund',
    reservations: readonly Reservation[],
  ): Promise<void> {
    if (reservations.length === 0) return;
    const settleOne = (r: Reservation) => (action === 'commit' ? this.quota.commit(r) : this.quota.refund(r));
    const results = await Promise.allSettled(
      reservations.map((r) => this.stage(`quota ${action}`, () => settleOne(r))),
    );
    const left = results.filter((o) => o.status === 'rejected' || o.value === 'unavailable');
    if (left.length === 0) return;
    const error = results.find((o) => o.status === 'rejected');
    this.logger.warn(
      {
        action,
        count: left.length,
        err: error ? { message: errorText(error.reason) } : undefined,
      },
      'quota reservations left for the beat to settle',
    );
  }

  private precheck(
    ctx: DeliveryContext,
    now: number,
  ):
    | { kind: 'go' }
    | { kind: 'noop'; reason: string }
    | { kind: 'skipped'; reason: string }
    | { kind: 'cancel'; reason: string }
    | { kind: 'delay'; until: number; reason: string } {
    if (SETTLED_STATUSES.includes(ctx.status)) return { kind: 'noop', reason: `already ${ctx.status}` };
    if (ctx.runStatus === 'cancelled' || ctx.campaign.status === 'archived')
      return { kind: 'cancel', reason: 'run cancelled' };
    if (ctx.status === 'sending' && ctx.leaseUntil && ctx.leaseUntil.getTime() > now) {
      return { kind: 'delay', until: ctx.leaseUntil.getTime(), reason: 'attempt in progress' };
    }
    if (ctx.suppressed) return { kind: 'skipped', reason: 'suppressed' };
    if (ctx.contact.status !== 'active')
      return { kind: 'skipped', reason: `contact is ${ctx.contact.status}` };
    if (ctx.campaign.status === 'paused')
      return { kind: 'delay', until: now + PAUSED_RECHECK_MS, reason: 'campaign paused' };
    return { kind: 'go' };
  }

  private async recordCircuit(tally: {
    key: CircuitKey;
    failures: number;
    successes: number;
  }): Promise<void> {
    const id = circuitId(tally.key);
    const window = this.windows.get(id) ?? 1;
    if (tally.failures > 0) this.windows.set(id, 1);
    else if (tally.successes >= window) this.windows.set(id, Math.min(window * 2, MAX_SEND_WINDOW));
    try {
      if (tally.failures === 0) {
        if (tally.successes > 0) await this.breaker.recordSuccess(tally.key);
        return;
      }
      // A batch's failures count one by one, up to what opens the circuit.
      for (let i = 0; i < Math.min(tally.failures, 3); i++) await this.breaker.recordFailure(tally.key);
    } catch (error) {
      this.logger.warn({ err: { message: (error as Error).message } }, 'circuit breaker bookkeeping failed');
    }
  }
}

/** What a crash that left this delivery's send unknown means: the account's choice, or the channel's default. */
function guaranteeOf(ctx: DeliveryContext, account: SendingAccount | undefined): DeliveryGuarantee {
  return account?.deliveryGuarantee ?? defaultGuarantee(ctx.channel as ChannelName);
}

function circuitId(key: CircuitKey): string {
  return `${key.channel}:${key.account}`;
}

function ref(ctx: DeliveryContext): DeliveryRef {
  return { tenantId: ctx.tenantId, id: ctx.id };
}

function unique(refs: DeliveryRef[]): DeliveryRef[] {
  const seen = new Map<string, DeliveryRef>();
  for (const r of refs) seen.set(`${r.tenantId}:${r.id}`, r);
  return [...seen.values()];
}

function isFinal(outcome: DeliveryOutcome | undefined): boolean {
  return outcome !== undefined && outcome.kind !== 'delay' && outcome.kind !== 'again';
}
