import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ProviderWebhooksRepository, type WebhookVerification } from '@herald/provider-events';
import type { TenantPrincipal } from '@herald/tenants';
import { TenantKey } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { ProblemException } from '../http/problem';
import { IdPipe, notFound } from '../http/validation.pipes';
import { IndexedZodPipe } from '../engine/engine-http';
import { senderAccountIdParams } from '../engine/sender-accounts.schemas';
import {
  EXAMPLE_PROVIDER_WEBHOOK_INPUT,
  providerWebhookBody,
  providerWebhookView,
} from './provider-events.schemas';

const EXAMPLE_VIEW = {
  provider: 'mailgun',
  path: '/v1/provider-events/0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f/mailgun',
};

/** How a sender account's provider webhook is verified: set, read (without its secrets), removed. */
@Controller('v1/sender-accounts/:id/provider-webhook')
export class ProviderWebhooksController {
  constructor(private readonly webhooks: ProviderWebhooksRepository) {}

  @Put()
  @ApiRoute({
    id: 'senderAccounts.providerWebhook.set',
    tag: 'sender-accounts',
    access: 'admin',
    summary: 'Set up a sender account’s provider webhook',
    description: [
      'What verifies the provider’s event webhooks for this account (replacing any earlier one): SendGrid `public_key` (the signed Event Webhook’s verification key, base64); SES `topic_arn` (the SNS topic the account’s notifications come from: AWS signs for every topic, so any other is refused);',
      'Postmark `username` and `password` (Postmark signs nothing: put them in the webhook URL as Basic credentials, over HTTPS); Mailgun `signing_key` (the HTTP webhook signing key).',
      'Sealed (AES-256-GCM) at rest, never returned or logged. Answers the path to give the provider.',
    ].join(' '),
    params: senderAccountIdParams,
    body: { schema: providerWebhookBody, example: EXAMPLE_PROVIDER_WEBHOOK_INPUT },
    success: {
      status: 200,
      description: 'The provider and the path its events go to.',
      schema: 'ProviderWebhook',
      example: EXAMPLE_VIEW,
    },
    problems: ['not-found'],
  })
  async set(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('sender account')) id: string,
    @Body(new IndexedZodPipe(providerWebhookBody, 'body')) body: WebhookVerification,
  ) {
    if (!(await this.webhooks.set(principal.tenantId, id, body))) throw notFound('sender account', id);
    return providerWebhookView(id, body.provider);
  }

  @Get()
  @ApiRoute({
    id: 'senderAccounts.providerWebhook.get',
    tag: 'sender-accounts',
    access: 'read',
    summary: 'Get a sender account’s provider webhook',
    description:
      'Which provider’s webhook is set up and its path; never its key or credentials. 404 when none is.',
    params: senderAccountIdParams,
    success: {
      status: 200,
      description: 'The provider and the path its events go to.',
      schema: 'ProviderWebhook',
      example: EXAMPLE_VIEW,
    },
    problems: ['not-found'],
  })
  async get(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('sender account')) id: string) {
    const provider = await this.webhooks.providerOf(principal.tenantId, id);
    if (provider === null) throw notFound('sender account', id);
    if (provider === undefined) {
      throw ProblemException.of('not-found', 'This sender account has no provider webhook set up.');
    }
    return providerWebhookView(id, provider);
  }

  @Delete()
  @HttpCode(204)
  @ApiRoute({
    id: 'senderAccounts.providerWebhook.delete',
    tag: 'sender-accounts',
    access: 'admin',
    summary: 'Remove a sender account’s provider webhook',
    description: 'The provider’s events for this account are refused (401) from now on.',
    params: senderAccountIdParams,
    success: { status: 204, description: 'Removed (or there was none).' },
    problems: ['not-found'],
  })
  async remove(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('sender account')) id: string,
  ) {
    if (!(await this.webhooks.clear(principal.tenantId, id))) throw notFound('sender account', id);
  }
}
