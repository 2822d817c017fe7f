import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { quotaAccountOf, SenderAccountsRepository } from '@herald/deliveries';
import { QuotaService } from '@herald/rate-limit';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { IdempotencyService } from '../http/idempotency.service';
import { ApiRoute } from '../http/openapi';
import { found, listAnswer } from '../http/resource-answers';
import { IdPipe, ZodPipe } from '../http/validation.pipes';
import { pageQuery } from '../tenants/tenants.schemas';
import { newAccount, pausedOrResumed } from './account-routes';
import { IndexedZodPipe } from './engine-http';
import {
  createSenderAccountBody,
  EXAMPLE_SENDER_ACCOUNT,
  EXAMPLE_SENDER_ACCOUNT_INPUT,
  quotaUsageView,
  senderAccountIdParams,
  senderAccountView,
  type CreateSenderAccountBody,
} from './sender-accounts.schemas';

@Controller('v1/sender-accounts')
export class SenderAccountsController {
  constructor(
    private readonly accounts: SenderAccountsRepository,
    private readonly quota: QuotaService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiRoute({
    id: 'senderAccounts.create',
    tag: 'sender-accounts',
    access: 'admin',
    summary: 'Create a sender account',
    description: [
      'A channel (smtp or webhook) with its config, quotas and time zone. The config is checked against the channel’s schema (errors name `config.<field>`).',
      'The whole config is sealed (AES-256-GCM) at rest; responses show it without its secret fields (smtp `password`, webhook `secret`), which are never returned or logged.',
      'SMTP hosts and webhook destinations on loopback, private or other non-public addresses are refused at send time unless OUTBOUND_ALLOW_PRIVATE_NETWORKS is set.',
      '`delivery_guarantee` says what happens to a send a crash left unknown (a worker killed between the provider call and its record): `at_most_once` holds it as `unknown` for an operator (GET /v1/deliveries?status=unknown), `at_least_once` sends it again with the same key. Default: `at_least_once` for webhook (the receiver drops a repeated Idempotency-Key), `at_most_once` for smtp (a mailbox may keep both copies).',
    ].join(' '),
    body: { schema: createSenderAccountBody, example: EXAMPLE_SENDER_ACCOUNT_INPUT },
    idempotent: true,
    success: {
      status: 201,
      description: 'The new account (without secrets).',
      schema: 'SenderAccount',
      example: EXAMPLE_SENDER_ACCOUNT,
    },
  })
  create(
    @TenantKey() principal: TenantPrincipal,
    @Body(new IndexedZodPipe(createSenderAccountBody, 'body')) body: CreateSenderAccountBody,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => {
      const account = await this.accounts.create(
        {
          ...newAccount(principal, body),
          channel: body.channel,
          ...(body.delivery_guarantee ? { deliveryGuarantee: body.delivery_guarantee } : {}),
        },
        manager,
      );
      return { status: 201, body: senderAccountView(account) };
    });
  }

  @Get()
  @ApiRoute({
    id: 'senderAccounts.list',
    tag: 'sender-accounts',
    access: 'read',
    summary: 'List sender accounts',
    description: 'Oldest first, in keyset pages. Secrets are never returned.',
    query: pageQuery,
    success: {
      status: 200,
      description: 'A page of sender accounts.',
      schema: 'SenderAccountList',
      example: { data: [EXAMPLE_SENDER_ACCOUNT], next_cursor: null },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(pageQuery, 'query')) query: z.output<typeof pageQuery>,
  ) {
    return listAnswer(
      query,
      (after, limit) => this.accounts.list(principal.tenantId, after, limit),
      senderAccountView,
    );
  }

  @Get(':id')
  @ApiRoute({
    id: 'senderAccounts.get',
    tag: 'sender-accounts',
    access: 'read',
    summary: 'Get a sender account',
    description: 'One account, without its secrets.',
    params: senderAccountIdParams,
    success: {
      status: 200,
      description: 'The account.',
      schema: 'SenderAccount',
      example: EXAMPLE_SENDER_ACCOUNT,
    },
  })
  async get(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('sender account')) id: string) {
    return senderAccountView(found(await this.accounts.find(principal.tenantId, id), 'sender account', id));
  }

  @Get(':id/quota')
  @ApiRoute({
    id: 'senderAccounts.quota',
    tag: 'sender-accounts',
    access: 'read',
    summary: 'Quota usage of a sender account',
    description:
      'Each configured window (hourly, daily, weekly) with its limit, what is used and left, and when it resets. While Redis is unreachable the numbers are conservative (units Redis held may show as used).',
    params: senderAccountIdParams,
    success: {
      status: 200,
      description: 'The account’s windows.',
      schema: 'QuotaUsage',
      example: {
        windows: [
          {
            window: 'daily',
            limit: 5000,
            used: 1200,
            remaining: 3800,
            resets_at: '2026-11-22T23:00:00.000Z',
          },
        ],
      },
    },
  })
  async usage(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('sender account')) id: string,
  ) {
    const account = found(await this.accounts.find(principal.tenantId, id), 'sender account', id);
    return quotaUsageView(await this.quota.usage(quotaAccountOf(account)));
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiRoute({
    id: 'senderAccounts.pause',
    tag: 'sender-accounts',
    access: 'admin',
    summary: 'Pause a sender account',
    description:
      'Nothing is sent through the account until it is resumed: its deliveries wait (re-checked every minute), none fails, and its quota is not spent. Pausing a paused account changes nothing; a disabled account is a 409.',
    params: senderAccountIdParams,
    success: {
      status: 200,
      description: 'The account, paused.',
      schema: 'SenderAccount',
      example: { ...EXAMPLE_SENDER_ACCOUNT, status: 'paused' },
    },
    problems: ['conflict'],
  })
  pause(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('sender account')) id: string) {
    return this.setPaused(principal.tenantId, id, true);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiRoute({
    id: 'senderAccounts.resume',
    tag: 'sender-accounts',
    access: 'admin',
    summary: 'Resume a paused sender account',
    description:
      'The account sends again: its waiting deliveries go out within a minute, under its quota. Resuming an active account changes nothing; a disabled account is a 409.',
    params: senderAccountIdParams,
    success: {
      status: 200,
      description: 'The account, active.',
      schema: 'SenderAccount',
      example: EXAMPLE_SENDER_ACCOUNT,
    },
    problems: ['conflict'],
  })
  resume(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('sender account')) id: string) {
    return this.setPaused(principal.tenantId, id, false);
  }

  private async setPaused(tenantId: string, id: string, paused: boolean) {
    return senderAccountView(
      pausedOrResumed(await this.accounts.setPaused(tenantId, id, paused), 'sender account', id),
    );
  }
}
