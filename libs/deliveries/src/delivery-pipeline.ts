import { Inject, Injectable } from '@nestjs/common';
import {
  ChannelRegistry,
  PermanentChannelError,
  TransientChannelError,
  type OutboundMessage,
} from '@herald/channels';
import { QuotaService, type Reservation } from '@herald/rate-limit';
import { CircuitBreaker, DEFAULT_RETRY_POLICY, retryDelay, type CircuitKey } from '@herald/resilience';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { HeraldLogger, HeraldMetrics } from '@herald/telemetry';
import { CLOCK, isInsideWindow, nextOpening, type Clock } from '@herald/time';
import { randomBytes } from 'node:crypto';
import { LedgerRepository, type DeliveryContext, type DeliveryRef } from './ledger.repository';
import { MicroBatcher } from './micro-batcher';
import { SenderAccountsRepository, type SendingAccount } from './sender-accounts.repository';
import { sendWindowSpec } from './send-window';
import { renderSubject, renderTemplate, TemplateError } from './template';

export interface DeliveryJob {
  tenantId: string;
  deliveryId: string;
}

/** What the queue should do with the job once its delivery has been through the pipeline. */
export type DeliveryOutcome =
  | { kind: 'sent' }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; reason: string }
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
 * render → claim (`sending`) → send with the delivery key as idempotency key → `sent` and its
 * interaction in one statement → quota commit. Transient errors release the claim, refund the
 * quota, count against the breaker and come back after a backoff; after the last attempt, and
 * on permanent errors, the delivery is `failed`.
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
  ) {}

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
    const contexts = await this.ledger.load(refs);
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
    // Sender accounts, breakers and quotas work per account (and run, for the run cap).
    const groups = new Map<string, Ready[]>();
    for (const ctx of candidates) {
      const account = await this.accounts
        .forSending(ctx.tenantId, ctx.senderAccountId, now)
        .catch(() => undefined);
      if (!account || account.status === 'disabled') {
        outcomes.set(ctx.id, {
          kind: 'failed',
          reason: account ? 'sender account is disabled' : 'sender account not found',
        });
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
    await Promise.all(
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
        const ids = passing.map((r) => `${r.ctx.id}:${randomBytes(4).toString('hex')}`);
        const result = await this.quota.reserveBatch({
          account: first.account.quota,
          reservationIds: ids,
          ...(runCap ? { runCap } : {}),
        });
        const granted = new Map([...result.admitted, ...result.replayed].map((r) => [r.id, r]));
        passing.forEach((r, i) => {
          const reservation = granted.get(ids[i]!);
          if (reservation) {
            admitted.push({ ...r, reservation });
            return;
          }
          const denial = result.denial;
          if (denial?.reason === 'quota' && r.ctx.campaign.quotaPolicy === 'defer') {
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

    // Render before claiming: a template error is permanent and needs no send.
    const failed: (DeliveryRef & { error: string; permanent: boolean })[] = [];
    const refunds: Reservation[] = [];
    const renderable: Ready[] = [];
    for (const r of admitted) {
      try {
        r.message = render(r.ctx);
        renderable.push(r);
      } catch (error) {
        const reason = error instanceof TemplateError ? error.message : 'template could not be rendered';
        failed.push({ ...ref(r.ctx), error: reason, permanent: true });
        outcomes.set(r.ctx.id, { kind: 'failed', reason });
        refunds.push(r.reservation!);
      }
    }
    const claimed = await this.ledger.claim(
      renderable.map((r) => ref(r.ctx)),
      this.config.delivery.sendLeaseMs,
    );
    const sending = renderable.filter((r) => {
      if (claimed.has(r.ctx.id)) return true;
      refunds.push(r.reservation!);
      outcomes.set(r.ctx.id, { kind: 'noop', reason: 'another attempt holds this delivery' });
      return false;
    });
    const sent: (DeliveryRef & { providerMessageId: string })[] = [];
    const released: (DeliveryRef & { error: string })[] = [];
    const transientByCircuit = new Map<string, { key: CircuitKey; failures: number; successes: number }>();
    await Promise.all(
      sending.map(async (r) => {
        const circuit = { channel: r.account.channel, account: r.account.id };
        const tally = transientByCircuit.get(`${circuit.channel}:${circuit.account}`) ?? {
          key: circuit,
          failures: 0,
          successes: 0,
        };
        transientByCircuit.set(`${circuit.channel}:${circuit.account}`, tally);
        const stop = this.metrics.deliveryDuration.startTimer({ channel: r.account.channel });
        try {
          const result = await this.channels.get(r.account.channel).send(r.message!, {
            idempotencyKey: r.ctx.deliveryKey,
            account: { id: r.account.id, config: r.account.config },
          });
          sent.push({ ...ref(r.ctx), providerMessageId: result.providerMessageId });
          outcomes.set(r.ctx.id, { kind: 'sent' });
          tally.successes += 1;
        } catch (error) {
          const attempt = claimed.get(r.ctx.id) ?? 1;
          if (error instanceof PermanentChannelError) {
            failed.push({ ...ref(r.ctx), error: error.message, permanent: true });
            outcomes.set(r.ctx.id, { kind: 'failed', reason: error.message });
            tally.successes += 1; // the provider answered: it is up
          } else {
            const message = error instanceof Error ? error.message : String(error);
            tally.failures += 1;
            if (attempt >= DEFAULT_RETRY_POLICY.maxAttempts) {
              failed.push({
                ...ref(r.ctx),
                error: `${message} (after ${attempt} attempts)`,
                permanent: false,
              });
              outcomes.set(r.ctx.id, { kind: 'failed', reason: message });
            } else {
              released.push({ ...ref(r.ctx), error: message });
              const retryAfter = error instanceof TransientChannelError ? error.retryAfterMs : undefined;
              outcomes.set(r.ctx.id, {
                kind: 'delay',
                until: this.clock.nowMs() + retryDelay(attempt - 1, retryAfter),
                reason: 'transient error',
              });
            }
          }
          refunds.push(r.reservation!);
        } finally {
          stop();
        }
      }),
    );
    // The ledger first (the send is only "done" once recorded), then quota and breaker bookkeeping.
    await Promise.all([
      this.ledger.markSent(sent),
      this.ledger.markFailed(failed),
      this.ledger.release(released),
      this.ledger.defer(defers),
      this.ledger.settle(settle.skipped, 'skipped'),
      this.ledger.settle(settle.cancelled, 'cancelled'),
    ]);
    const committed = new Set(sent.map((s) => s.id));
    await Promise.all([
      ...sending.filter((r) => committed.has(r.ctx.id)).map((r) => this.quota.commit(r.reservation!)),
      ...refunds.map((r) => this.quota.refund(r)),
      ...[...transientByCircuit.values()].map((t) => this.recordCircuit(t)),
    ]);
    const runs = unique(
      contexts
        .filter((c) => c.runId && isFinal(outcomes.get(c.id)))
        .map((c) => ({ tenantId: c.tenantId, id: c.runId! })),
    );
    if (runs.length > 0) await this.ledger.completeRuns(runs);
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

  private precheck(
    ctx: DeliveryContext,
    now: number,
  ):
    | { kind: 'go' }
    | { kind: 'noop'; reason: string }
    | { kind: 'skipped'; reason: string }
    | { kind: 'cancel'; reason: string }
    | { kind: 'delay'; until: number; reason: string } {
    if (['sent', 'failed', 'skipped', 'cancelled'].includes(ctx.status))
      return { kind: 'noop', reason: `already ${ctx.status}` };
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

function render(ctx: DeliveryContext): OutboundMessage {
  const step = ctx.campaign.steps[ctx.step];
  if (!step) throw new TemplateError(`campaign has no step ${ctx.step}`);
  const variables = {
    first_name: ctx.contact.firstName,
    last_name: ctx.contact.lastName,
    email: ctx.contact.email,
    external_ref: ctx.contact.externalRef,
    attributes: ctx.contact.attributes,
  };
  return {
    deliveryId: ctx.id,
    campaignId: ctx.campaignId,
    runId: ctx.runId,
    contact: {
      id: ctx.contact.id,
      email: ctx.contact.email,
      firstName: ctx.contact.firstName,
      lastName: ctx.contact.lastName,
      externalRef: ctx.contact.externalRef,
    },
    subject: step.subject !== undefined ? renderSubject(step.subject, variables) : null,
    body: renderTemplate(step.body, variables, { html: step.html === true }),
  };
}
