import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { keysetPage } from '@herald/persistence';
import { ApiKeysService, type TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { IdempotencyService } from '../http/idempotency.service';
import { ApiRoute } from '../http/openapi';
import { cursorPosition, IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import {
  apiKeyView,
  createApiKeyBody,
  createdApiKeyView,
  EXAMPLE_FULL_KEY,
  EXAMPLE_KEY,
  keyIdParams,
  pageQuery,
} from './tenants.schemas';

@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeysService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiRoute({
    id: 'apiKeys.create',
    tag: 'api-keys',
    access: 'admin',
    summary: 'Create an API key',
    description:
      'Creates a key for this tenant with the given scopes. The whole key is in this response only.',
    body: { schema: createApiKeyBody, example: { name: 'CRM sync', scopes: ['read', 'write'] } },
    idempotent: true,
    success: {
      status: 201,
      description: 'The key, shown once.',
      schema: 'CreatedApiKey',
      example: { ...EXAMPLE_KEY, key: EXAMPLE_FULL_KEY },
    },
  })
  create(
    @TenantKey() principal: TenantPrincipal,
    @Body(new ZodPipe(createApiKeyBody, 'body')) body: z.output<typeof createApiKeyBody>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => {
      const key = await this.keys.create(manager, principal.tenantId, body);
      return { status: 201, body: createdApiKeyView(key) };
    });
  }

  @Get()
  @ApiRoute({
    id: 'apiKeys.list',
    tag: 'api-keys',
    access: 'admin',
    summary: 'List API keys',
    description: 'The tenant’s keys, oldest first, revoked ones included. Secrets are never returned.',
    query: pageQuery,
    success: {
      status: 200,
      description: 'A page of keys.',
      schema: 'ApiKeyList',
      example: { data: [EXAMPLE_KEY], next_cursor: null },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(pageQuery, 'query')) query: z.output<typeof pageQuery>,
  ) {
    const limit = query.limit ?? 50;
    const rows = await this.keys.page(principal.tenantId, cursorPosition(query.cursor), limit + 1);
    const page = keysetPage(rows, limit);
    return { data: page.rows.map(apiKeyView), next_cursor: page.nextCursor };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiRoute({
    id: 'apiKeys.revoke',
    tag: 'api-keys',
    access: 'admin',
    summary: 'Revoke an API key',
    description:
      'Revokes the key at once on every api replica. Revoking a revoked key is fine. The tenant’s last active admin key cannot be revoked (409).',
    params: keyIdParams,
    success: { status: 204, description: 'Revoked.' },
    problems: ['conflict'],
  })
  async revoke(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('API key')) id: string,
  ): Promise<void> {
    if (!(await this.keys.revoke(principal.tenantId, id))) throw notFound('API key', id);
  }
}
