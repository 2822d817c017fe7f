import { Body, Controller, Get, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { keysetPage } from '@herald/persistence';
import { TenantsService } from '@herald/tenants';
import type { Request, Response } from 'express';
import { IdempotencyService } from '../http/idempotency.service';
import { ApiRoute } from '../http/openapi';
import { cursorPosition, IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import {
  createTenantBody,
  EXAMPLE_FULL_KEY,
  EXAMPLE_KEY,
  pageQuery,
  tenantCreatedView,
  tenantIdParams,
  tenantPatchBody,
  tenantView,
} from './tenants.schemas';
import type { z } from 'zod';

@Controller('v1/tenants')
export class TenantsController {
  constructor(
    private readonly tenants: TenantsService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiRoute({
    id: 'tenants.create',
    tag: 'tenants',
    access: 'platform',
    summary: 'Create a tenant and its first admin key',
    description:
      'Creates a tenant with its IANA time zone and returns its first API key (scopes read, write, admin). The key is shown once.',
    body: { schema: createTenantBody, example: { name: 'Acme Outreach', time_zone: 'Europe/Paris' } },
    idempotent: true,
    success: {
      status: 201,
      description: 'The tenant, with its first API key (shown once).',
      schema: 'TenantCreated',
      example: {
        id: '0190f5e4-1111-7c3d-8e4f-5a6b7c8d9e0f',
        name: 'Acme Outreach',
        time_zone: 'Europe/Paris',
        delivery_weight: 1,
        created_at: '2026-11-22T10:15:00.000Z',
        api_key: {
          ...EXAMPLE_KEY,
          name: 'initial admin key',
          scopes: ['read', 'write', 'admin'],
          key: EXAMPLE_FULL_KEY,
        },
      },
    },
  })
  create(
    @Body(new ZodPipe(createTenantBody, 'body')) body: z.output<typeof createTenantBody>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, null, async (manager) => {
      const { tenant, apiKey } = await this.tenants.create(manager, {
        name: body.name,
        timeZone: body.time_zone,
        ...(body.delivery_weight !== undefined ? { deliveryWeight: body.delivery_weight } : {}),
      });
      return { status: 201, body: tenantCreatedView(tenant, apiKey) };
    });
  }

  @Get()
  @ApiRoute({
    id: 'tenants.list',
    tag: 'tenants',
    access: 'platform',
    summary: 'List tenants',
    description:
      'Every tenant, oldest first, in keyset pages: the platform view of who runs on this deployment.',
    query: pageQuery,
    success: {
      status: 200,
      description: 'A page of tenants.',
      schema: 'TenantList',
      example: {
        data: [
          {
            id: '0190f5e4-1111-7c3d-8e4f-5a6b7c8d9e0f',
            name: 'Acme Outreach',
            time_zone: 'Europe/Paris',
            delivery_weight: 1,
            created_at: '2026-11-22T10:15:00.000Z',
          },
        ],
        next_cursor: null,
      },
    },
  })
  async list(@Query(new ZodPipe(pageQuery, 'query')) query: z.output<typeof pageQuery>) {
    const limit = query.limit ?? 50;
    const page = keysetPage(await this.tenants.page(cursorPosition(query.cursor), limit + 1), limit);
    return { data: page.rows.map(tenantView), next_cursor: page.nextCursor };
  }

  @Patch(':id')
  @ApiRoute({
    id: 'tenants.update',
    tag: 'tenants',
    access: 'platform',
    summary: 'Change a tenant',
    description:
      'Changes only the fields given. `delivery_weight` takes effect as the tenant’s next pages are queued (within seconds for a run in progress).',
    params: tenantIdParams,
    body: { schema: tenantPatchBody, example: { delivery_weight: 3 } },
    success: {
      status: 200,
      description: 'The changed tenant.',
      schema: 'Tenant',
      example: {
        id: '0190f5e4-1111-7c3d-8e4f-5a6b7c8d9e0f',
        name: 'Acme Outreach',
        time_zone: 'Europe/Paris',
        delivery_weight: 3,
        created_at: '2026-11-22T10:15:00.000Z',
      },
    },
  })
  update(
    @Param('id', new IdPipe('tenant')) id: string,
    @Body(new ZodPipe(tenantPatchBody, 'body')) body: z.output<typeof tenantPatchBody>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, null, async (manager) => {
      const tenant = await this.tenants.update(manager, id, {
        ...(body.delivery_weight !== undefined ? { deliveryWeight: body.delivery_weight } : {}),
      });
      if (!tenant) throw notFound('tenant', id);
      return { status: 200, body: tenantView(tenant) };
    });
  }
}
