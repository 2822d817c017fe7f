import { Inject, Injectable } from '@nestjs/common';
import { OutboundGuard } from '@herald/channels';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { UnknownContactError } from '@herald/contacts';
import { TransactionRunner } from '@herald/persistence';
import { REDIS, RedisKeys, type RedisClient } from '@herald/queues';
import { EventsService, type SequenceEvent } from '@herald/sequences';
import { HeraldLogger } from '@herald/telemetry';
import type { EntityManager } from 'typeorm';
import { EngagementRecorder } from '@herald/engagement';
import type { EngagementEvent } from '@herald/engagement';
import { AccountHealth, type HealthCounts } from './account-health';
import { matchDeliveries } from './delivery-matcher';
import { guardedGet } from './guarded-get';
import { parseMailgun, verifyMailgun } from './mailgun';
import { parsePostmark, verifyPostmark } from './postmark';
import { ProviderPayloadError, ProviderSignatureError, ProviderUnavailableError } from './provider-errors';
import type { ParsedEvents, ProviderEvent, ProviderName } from './provider-event';
import { ProviderMetrics } from './provider-metrics';
import { ProviderWebhooksRepository, type WebhookAccount } from './provider-webhooks.repository';
import { parseSendgrid, verifySendgrid } from './sendgrid';
import { parseSesNotification, parseSnsMessage, verifySns, type SnsMessage } from './ses';
import { isAllowedSnsUrl, SnsCertificates } from './sns-certificates';

/** One webhook request as the api received it. */
export interface ProviderRequest {
  accountId: string;
  provider: ProviderName;
  rawBody: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
}

/** What a request did, as answered to the provider (200). */
export interface ProviderResult {
  received: number;
  recorded: number;
  replayed: number;
  unmatched: number;
  ignored: number;
  /** SES only: the SNS subscription was confirmed. */
  subscriptionConfirmed?: boolean;
}

const EMPTY: ProviderResult = { received: 0, recorded: 0, replayed: 0, unmatched: 0, ignored: 0 };

/**
 * Provider webhooks in: the request is verified as the provider's (else ProviderSignatureError,
 * nothing written), its events are normalised, matched to the tenant's deliveries and recorded
 * through the EngagementRecorder in one transaction. Only an event recorded now (not a replay)
 * has effects: a hard bounce, a complaint or an unsubscribe suppresses the address and stops the
 * contact's sequences (EventsService, same transaction); after commit the account's health counts
 * it. Events for no delivery of the tenant are counted and answered 200, so the provider does not
 * retry them forever.
 */
@Injectable()
export class ProviderEventsService {
  private readonly certificates: SnsCertificates;
  private readonly guard: OutboundGuard;
  private readonly settings: HeraldConfig['providerEvents'];
  private readonly userAgent: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly webhooks: ProviderWebhooksRepository,
    private readonly transactions: TransactionRunner,
    private readonly recorder: EngagementRecorder,
    private readonly events: EventsService,
    private readonly health: AccountHealth,
    private readonly metrics: ProviderMetrics,
    private readonly logger: HeraldLogger,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    @Inject(HERALD_CONFIG) config: HeraldConfig,
  ) {
    this.settings = config.providerEvents;
    this.guard = new OutboundGuard({ allowPrivateNetworks: config.delivery.allowPrivateNetworks });
    this.userAgent = `Herald/${config.app.version} (+provider-events)`;
    this.timeoutMs = config.delivery.webhookTimeoutMs;
    this.certificates = new SnsCertificates(this.guard, {
      allowedOrigin: this.settings.snsAllowedOrigin,
      cacheSeconds: this.settings.snsCertCacheSeconds,
      timeoutMs: this.timeoutMs,
      userAgent: this.userAgent,
    });
  }

  async handle(request: ProviderRequest): Promise<ProviderResult> {
    try {
      return await this.verifiedAndRecorded(request);
    } catch (error) {
      if (error instanceof ProviderSignatureError)
        this.metrics.events.inc({ provider: request.provider, outcome: error.outcome });
      else if (error instanceof ProviderPayloadError)
        this.metrics.events.inc({ provider: request.provider, outcome: 'invalid' });
      throw error;
    }
  }

  private async verifiedAndRecorded(request: ProviderRequest): Promise<ProviderResult> {
    const now = Date.now();
    const tolerance = this.settings.timestampToleranceSeconds;
    switch (request.provider) {
      case 'sendgrid': {
        const account = await this.webhooks.forEvent(request.accountId, 'sendgrid');
        verifySendgrid(request.rawBody, request.headers, account.verification, now, tolerance);
        return this.record(account, 'sendgrid', parseSendgrid(json(request.rawBody)));
      }
      case 'postmark': {
        const account = await this.webhooks.forEvent(request.accountId, 'postmark');
        verifyPostmark(request.headers.authorization, account.verification);
        return this.record(account, 'postmark', parsePostmark(json(request.rawBody)));
      }
      case 'mailgun': {
        const account = await this.webhooks.forEvent(request.accountId, 'mailgun');
        const body = json(request.rawBody);
        const token = verifyMailgun(body, account.verification, now, tolerance);
        const tokenKey = this.keys.key('mailgun-token', account.accountId, token.token);
        // A token is good once: a captured request sent again is refused, even within the tolerance.
        if ((await this.redis.set(tokenKey, '1', 'EX', token.ttlSeconds, 'NX')) !== 'OK') {
          throw new ProviderSignatureError('this Mailgun token was already used', 'replay');
        }
        try {
          return await this.record(account, 'mailgun', parseMailgun(body));
        } catch (error) {
          // Not processed: Mailgun's retry of the same request must be accepted.
          await this.redis.del(tokenKey).catch(() => undefined);
          throw error;
        }
      }
      case 'ses': {
        const account = await this.webhooks.forEvent(request.accountId, 'ses');
        const message = parseSnsMessage(json(request.rawBody));
        await verifySns(message, account.verification, this.certificates);
        if (message.Type === 'SubscriptionConfirmation') return this.confirm(message);
        if (message.Type === 'UnsubscribeConfirmation') {
          this.metrics.events.inc({ provider: 'ses', outcome: 'ignored' });
          return { ...EMPTY, received: 1, ignored: 1 };
        }
        return this.record(account, 'ses', parseSesNotification(message));
      }
    }
  }

  /** Confirms the subscription by GETting its SubscribeURL (an SNS origin only, through the guard). */
  private async confirm(message: SnsMessage): Promise<ProviderResult> {
    const url = new URL(message.SubscribeURL!);
    if (!isAllowedSnsUrl(url, this.settings.snsAllowedOrigin)) {
      throw new ProviderSignatureError('SubscribeURL is not an SNS URL');
    }
    let status: number;
    try {
      ({ status } = await guardedGet(this.guard, url, {
        timeoutMs: this.timeoutMs,
        maxBytes: 64 * 1024,
        userAgent: this.userAgent,
      }));
    } catch (error) {
      throw new ProviderUnavailableError(
        `the SNS subscription could not be confirmed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    if (status !== 200)
      throw new ProviderUnavailableError(`SNS answered ${status} to the subscription confirmation`);
    this.logger.info({ topic_arn: message.TopicArn }, 'SNS subscription confirmed');
    return { ...EMPTY, received: 1, subscriptionConfirmed: true };
  }

  private async record(
    account: Pick<WebhookAccount, 'tenantId' | 'accountId'>,
    provider: ProviderName,
    parsed: ParsedEvents,
  ): Promise<ProviderResult> {
    const result: ProviderResult = {
      ...EMPTY,
      received: parsed.events.length + parsed.ignored,
      ignored: parsed.ignored,
    };
    const recorded = await this.transactions.run(async (manager) => {
      const fresh: EngagementEvent[] = [];
      const matched = await matchDeliveries(
        manager,
        account.tenantId,
        parsed.events.map((e) => e.message),
      );
      for (const [i, event] of parsed.events.entries()) {
        const deliveryId = matched[i];
        if (!deliveryId) {
          result.unmatched += 1;
          continue;
        }
        const outcome = await this.recorder.record(manager, {
          tenantId: account.tenantId,
          kind: event.kind,
          source: provider,
          sourceEventId: event.sourceEventId,
          occurredAt: event.occurredAt,
          deliveryId,
          bounceType: event.bounceType ?? null,
          machine: event.details.machine === true,
          url: event.url ?? null,
          details: { ...event.details, ...(event.reason ? { reason: event.reason } : {}) },
        });
        if (!outcome.recorded) {
          result.replayed += 1;
          continue;
        }
        result.recorded += 1;
        fresh.push(outcome.event);
        await this.act(manager, outcome.event, event, provider);
      }
      return fresh;
    });
    for (const [outcome, count] of [
      ['recorded', result.recorded],
      ['replay', result.replayed],
      ['unmatched', result.unmatched],
      ['ignored', result.ignored],
    ] as const) {
      if (count > 0) this.metrics.events.inc({ provider, outcome }, count);
    }
    await this.countHealth(account.tenantId, recorded);
    return result;
  }

  /** A hard bounce, a complaint or an unsubscribe: the address is suppressed and the contact's sequences stop. */
  private async act(
    manager: EntityManager,
    recorded: EngagementEvent,
    event: ProviderEvent,
    provider: ProviderName,
  ): Promise<void> {
    if (!recorded.contactId) return;
    const sequenceEvent = toSequenceEvent(recorded, event, provider);
    if (!sequenceEvent) return;
    try {
      await this.events.record(recorded.tenantId, sequenceEvent, manager);
    } catch (error) {
      // The contact was deleted since: nothing left to suppress or stop.
      if (!(error instanceof UnknownContactError)) throw error;
    }
  }

  /** After commit: the health of each account whose messages these were. Redis trouble costs the count, never the events. */
  private async countHealth(tenantId: string, events: EngagementEvent[]): Promise<void> {
    const perAccount = new Map<string, HealthCounts>();
    for (const event of events) {
      if (!event.senderAccountId) continue;
      const counts = perAccount.get(event.senderAccountId) ?? { delivered: 0, hardBounces: 0, complaints: 0 };
      if (event.kind === 'delivered') counts.delivered += 1;
      else if (event.kind === 'bounced' && event.bounceType === 'hard') counts.hardBounces += 1;
      else if (event.kind === 'complained') counts.complaints += 1;
      else continue;
      perAccount.set(event.senderAccountId, counts);
    }
    for (const [accountId, counts] of perAccount) {
      try {
        await this.health.observe(tenantId, accountId, counts);
      } catch (error) {
        this.logger.warn(
          { err: { message: (error as Error).message }, sender_account_id: accountId },
          'sender account health not counted',
        );
      }
    }
  }
}

/** The body as JSON; 400 when it is not. */
function json(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new ProviderPayloadError('', 'is not valid JSON');
  }
}

function toSequenceEvent(
  recorded: EngagementEvent,
  event: ProviderEvent,
  provider: ProviderName,
): SequenceEvent | undefined {
  const common = {
    target: { contactId: recorded.contactId! },
    campaignId: null,
    occurredAt: recorded.occurredAt,
    // Recorded already as the provider's engagement event: not again under an event id of its own.
    eventId: null,
    value: null,
    currency: null,
  };
  const reason = event.reason?.slice(0, 1000);
  if (recorded.kind === 'bounced' && recorded.bounceType === 'hard') {
    return {
      ...common,
      type: 'bounce',
      payload: { delivery_id: recorded.deliveryId, kind: 'hard', ...(reason ? { reason } : {}) },
    };
  }
  if (recorded.kind === 'complained') {
    return {
      ...common,
      type: 'complaint',
      payload: {
        delivery_id: recorded.deliveryId,
        source: provider,
        ...(reason ? { feedback_type: reason.slice(0, 100) } : {}),
      },
    };
  }
  if (recorded.kind === 'unsubscribed') {
    return { ...common, type: 'unsubscribe', payload: { delivery_id: recorded.deliveryId, source: 'link' } };
  }
  return undefined;
}
