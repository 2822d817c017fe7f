import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import {
  SOURCE_CONFIG_SCHEMAS,
  SourceAccountsRepository,
  SourceQuota,
  SourcingValidationError,
} from '@herald/sourcing';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { IdempotencyService } from '../http/idempotency.service';
import { ApiRoute } from '../http/openapi';
import { ProblemException } from '../http/problem';
import { found, listAnswer } from '../http/resource-answers';
import { IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import { newAccount, pausedOrResumed } from '../engine/account-routes';
import { IndexedZodPipe } from '../engine/engine-http';
import { quotaUsageView } from '../engine/sender-accounts.schemas';
import { pageQuery } from '../tenants/tenants.schemas';
import {
  createSourceAccountBody,
  EXAMPLE_SOURCE_ACCOUNT,
  EXAMPLE_SOURCE_ACCOUNT_INPUT,
  patchSourceAccountBody,
  sourceAccountIdParams,
  sourceAccountView,
  type CreateSourceAccountBody,
  type PatchSourceAccountBody,
} from './source-accounts.schemas';
import { SourcingErrorsFilter } from './sourcing-http';

@Controller('v1/source-accounts')
@UseFilters(SourcingErrorsFilter)
export class SourceAccountsController {
  constructor(
    private readonly accounts: SourceAccountsRepository,
    private readonly quota: SourceQuota,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiRoute({
    id: 'sourceAccounts.create',
    tag: 'source-accounts',
    access: 'admin',
    summary: 'Create a source account',
    description: [
      'Where leads come from: `http-directory` (a paged JSON search API), `profile-visit` (profile pages visited one by one), `csv` (a list uploaded with each job) or `http-enrichment` (a lookup API used while qualifying). The config is checked against the kind’s schema (errors name `config.<field>`).',
      'The whole config is sealed (AES-256-GCM) at rest; responses show it without its secret fields (`api_key`, `cookie`), which are never returned or logged.',
      'Quotas count requests — a search page, a profile visit, a lookup each spend one unit — per hour, day and week in the account’s zone, on the same engine as sender accounts; a fleet-wide breaker per account opens after repeated timeouts or 5xx answers.',
    ].join(' '),
    body: { schema: createSourceAccountBody, example: EXAMPLE_SOURCE_ACCOUNT_INPUT },
    idempotent: true,
    success: {
      status: 201,
      description: 'The new account (without secrets).',
      schema: 'SourceAccount',
      example: EXAMPLE_SOURCE_ACCOUNT,
    },
  })
  create(
    @TenantKey() principal: TenantPrincipal,
    @Body(new IndexedZodPipe(createSourceAccountBody, 'body')) body: CreateSourceAccountBody,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => {
      const account = await this.accounts.create(
        { ...newAccount(principal, body), kind: body.kind },
        manager,
      );
      return { status: 201, body: sourceAccountView(account) };
    });
  }

  @Get()
  @ApiRoute({
    id: 'sourceAccounts.list',
    tag: 'source-accounts',
    access: 'read',
    summary: 'List source accounts',
    description: 'Oldest first, in keyset pages. Secrets are never returned.',
    query: pageQuery,
    success: {
      status: 200,
      description: 'A page of source accounts.',
      schema: 'SourceAccountList',
      example: { data: [EXAMPLE_SOURCE_ACCOUNT], next_cursor: null },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(pageQuery, 'query')) query: z.output<typeof pageQuery>,
  ) {
    return listAnswer(
      query,
      (after, limit) => this.accounts.list(principal.tenantId, after, limit),
      sourceAccountView,
    );
  }

  @Get(':id')
  @ApiRoute({
    id: 'sourceAccounts.get',
    tag: 'source-accounts',
    access: 'read',
    summary: 'Get a source account',
    description: 'One account, without its secrets.',
    params: sourceAccountIdParams,
    success: {
      status: 200,
      description: 'The account.',
      schema: 'SourceAccount',
      example: EXAMPLE_SOURCE_ACCOUNT,
    },
  })
  async get(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('source account')) id: string) {
    return sourceAccountView(found(await this.accounts.find(principal.tenantId, id), 'source account', id));
  }

  @Patch(':id')
  @ApiRoute({
    id: 'sourceAccounts.update',
    tag: 'source-accounts',
    access: 'admin',
    summary: 'Change a source account',
    description:
      'Name, quotas, zone and/or config; only what is given changes. A `config` replaces the whole config (give the secrets again), checked against the account’s kind (errors name `config.<field>`). The kind never changes.',
    params: sourceAccountIdParams,
    body: { schema: patchSourceAccountBody, example: { quotas: { daily: 2000 } } },
    success: {
      status: 200,
      description: 'The account.',
      schema: 'SourceAccount',
      example: EXAMPLE_SOURCE_ACCOUNT,
    },
  })
  async update(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('source account')) id: string,
    @Body(new IndexedZodPipe(patchSourceAccountBody, 'body')) body: PatchSourceAccountBody,
  ) {
    const current = found(await this.accounts.find(principal.tenantId, id), 'source account', id);
    let config: Record<string, unknown> | undefined;
    if (body.config !== undefined) {
      const parsed = SOURCE_CONFIG_SCHEMAS[current.kind].safeParse(body.config);
      if (!parsed.success)
        throw new SourcingValidationError(
          parsed.error.issues.map((i) => ({
            field: ['config', ...i.path.map(String)].join('.'),
            message: i.message,
          })),
        );
      config = parsed.data;
    }
    const account = await this.accounts.update(principal.tenantId, id, {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.time_zone !== undefined ? { timeZone: body.time_zone } : {}),
      ...(body.quotas !== undefined ? { quotas: body.quotas } : {}),
      ...(config !== undefined ? { config } : {}),
    });
    return sourceAccountView(found(account, 'source account', id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiRoute({
    id: 'sourceAccounts.delete',
    tag: 'source-accounts',
    access: 'admin',
    summary: 'Delete a source account',
    description:
      'Only an account no sourcing job names (archived ones included) can be deleted: otherwise a 409.',
    params: sourceAccountIdParams,
    success: { status: 204, description: 'Deleted.' },
    problems: ['conflict'],
  })
  async remove(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('source account')) id: string,
  ) {
    const outcome = await this.accounts.delete(principal.tenantId, id);
    if (!outcome) throw notFound('source account', id);
    if (outcome === 'in_use')
      throw ProblemException.of(
        'conflict',
        'A sourcing job uses this source account: archive or change it first.',
      );
  }

  @Get(':id/quota')
  @ApiRoute({
    id: 'sourceAccounts.quota',
    tag: 'source-accounts',
    access: 'read',
    summary: 'Quota usage of a source account',
    description:
      'Each configured window (hourly, daily, weekly) with its limit, what is used and left, and when it resets.',
    params: sourceAccountIdParams,
    success: {
      status: 200,
      description: 'The account’s windows.',
      schema: 'QuotaUsage',
      example: {
        windows: [
          { window: 'daily', limit: 5000, used: 120, remaining: 4880, resets_at: '2026-12-01T23:00:00.000Z' },
        ],
      },
    },
  })
  async usage(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('source account')) id: string,
  ) {
    const account = found(await this.accounts.find(principal.tenantId, id), 'source account', id);
    return quotaUsageView(await this.quota.usage(account));
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiRoute({
    id: 'sourceAccounts.pause',
    tag: 'source-accounts',
    access: 'admin',
    summary: 'Pause a source account',
    description:
      'No request goes to the source until it is resumed: runs using it wait (re-checked every minute) and spend no quota. A disabled account is a 409.',
    params: sourceAccountIdParams,
    success: {
      status: 200,
      description: 'The account, paused.',
      schema: 'SourceAccount',
      example: { ...EXAMPLE_SOURCE_ACCOUNT, status: 'paused' },
    },
    problems: ['conflict'],
  })
  pause(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('source account')) id: string) {
    return this.setPaused(principal.tenantId, id, true);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiRoute({
    id: 'sourceAccounts.resume',
    tag: 'source-accounts',
    access: 'admin',
    summary: 'Resume a paused source account',
    description: 'Runs using it go on within a minute, under its quota. A disabled account is a 409.',
    params: sourceAccountIdParams,
    success: {
      status: 200,
      description: 'The account, active.',
      schema: 'SourceAccount',
      example: EXAMPLE_SOURCE_ACCOUNT,
    },
    problems: ['conflict'],
  })
  resume(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('source account')) id: string) {
    return this.setPaused(principal.tenantId, id, false);
  }

  private async setPaused(tenantId: string, id: string, paused: boolean) {
    return sourceAccountView(
      pausedOrResumed(await this.accounts.setPaused(tenantId, id, paused), 'source account', id),
    );
  }
}
