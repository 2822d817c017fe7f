import { Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import {
  PROVIDERS,
  ProviderEventsService,
  ProviderPayloadError,
  ProviderSignatureError,
  ProviderUnavailableError,
  type ProviderName,
} from '@herald/provider-events';
import type { Request } from 'express';
import { checkJsonText } from '../http/json-text';
import { ApiRoute } from '../http/openapi';
import { ProblemException } from '../http/problem';
import { readText, requireMediaType } from '../http/request-body';
import { IdPipe } from '../http/validation.pipes';
import {
  EXAMPLE_PROVIDER_EVENT,
  providerEventBody,
  providerEventParams,
  providerEventResultView,
} from './provider-events.schemas';

/**
 * A path's provider. One Herald has no webhook for is answered like a provider whose webhook the
 * account does not have set up (401): what the path names decides nothing before a signature does.
 */
function providerOf(value: string): ProviderName {
  if (!(PROVIDERS as readonly string[]).includes(value)) {
    throw ProblemException.of('unauthorized', 'Herald reads no webhook of this provider.', [
      { field: 'provider', message: `must be one of ${PROVIDERS.join(', ')}` },
    ]);
  }
  return value as ProviderName;
}

@Controller('v1/provider-events')
export class ProviderEventsController {
  constructor(
    private readonly service: ProviderEventsService,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}

  @Post(':sender_account_id/:provider')
  @HttpCode(200)
  @ApiRoute({
    id: 'providerEvents.receive',
    tag: 'provider-events',
    access: 'public',
    summary: 'Receive a provider’s event webhook',
    description: [
      'Where SendGrid (Event Webhook), Amazon SES (through an SNS HTTPS subscription), Postmark and Mailgun post what happened to a message a sender account sent. No API key: the request is authenticated by the provider’s signature, checked with what `PUT /v1/sender-accounts/{id}/provider-webhook` set —',
      'SendGrid: the ECDSA signature over the timestamp and raw body (`X-Twilio-Email-Event-Webhook-Signature`/`-Timestamp`); SES: the SNS message signature (v1 or v2) with the certificate fetched from SNS, and the topic the account names; Postmark: it signs nothing, so the HTTP Basic credentials set on the webhook URL; Mailgun: the HMAC-SHA256 of timestamp and token with the signing key, each token once.',
      'A signed timestamp older than PROVIDER_EVENTS_TIMESTAMP_TOLERANCE_SECONDS is a replay. A bad or missing signature, or an account with no webhook for this provider: 401 and nothing is recorded.',
      'Events become `delivered`, `bounced` (hard or soft), `complained`, `opened`, `clicked`, `unsubscribed`, matched to the tenant’s delivery by `herald_delivery_id` (custom arg, metadata, tag or the `X-Herald-Delivery-Id` header) or by the Message-ID Herald set, and recorded once per provider event id: a replay changes nothing.',
      'A newly recorded hard bounce, complaint or unsubscribe suppresses the address and stops the contact’s sequences; the account’s bounce and complaint rates may pause it. Events for no delivery of the tenant are answered 200 and not recorded. An SNS SubscriptionConfirmation is confirmed (GET of its SubscribeURL).',
    ].join(' '),
    params: providerEventParams,
    body: { schema: providerEventBody, example: EXAMPLE_PROVIDER_EVENT },
    success: {
      status: 200,
      description: 'What the request recorded.',
      schema: 'ProviderEventResult',
      example: { received: 1, recorded: 1, replayed: 0, unmatched: 0, ignored: 0 },
    },
    problems: ['not-found', 'unauthorized', 'unavailable'],
  })
  async receive(
    @Param('sender_account_id', new IdPipe('sender account')) accountId: string,
    @Param('provider') providerParam: string,
    @Req() req: Request,
  ) {
    // The body's text is checked (media type, size, nesting, storable strings) before anything
    // reads it, as every /v1 JSON body is; then the provider, then the signature.
    requireMediaType(req, ['application/json', 'text/plain']);
    const rawBody = await readText(
      req,
      this.config.providerEvents.bodyLimitBytes,
      this.config.http.bodyIdleTimeoutMs,
    );
    checkJsonText(rawBody, this.config.api.jsonMaxDepth);
    const provider = providerOf(providerParam);
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value[0] : value]),
    );
    try {
      return providerEventResultView(await this.service.handle({ accountId, provider, rawBody, headers }));
    } catch (error) {
      if (error instanceof ProviderSignatureError) throw ProblemException.of('unauthorized', error.message);
      if (error instanceof ProviderPayloadError) {
        throw ProblemException.of('validation-failed', 'The provider event is not one Herald can read.', [
          { field: error.field, message: error.message },
        ]);
      }
      if (error instanceof ProviderUnavailableError) {
        throw ProblemException.of('unavailable', error.message, [], { 'Retry-After': '60' });
      }
      throw error;
    }
  }
}
