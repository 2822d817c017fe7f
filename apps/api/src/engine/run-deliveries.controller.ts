import { Controller, Get, Param, Query } from '@nestjs/common';
import { DELIVERY_STATUSES, RunDeliveries } from '@herald/deliveries';
import { encodeCursor } from '@herald/persistence';
import type { TenantPrincipal } from '@herald/tenants';
import { z } from 'zod';
import { TenantKey } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { cursorPosition, IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import { pageQuery } from '../tenants/tenants.schemas';
import { deliveryView, EXAMPLE_DELIVERY } from './deliveries.schemas';
import { runIdParams } from './runs.schemas';

const runDeliveriesQuery = pageQuery.extend({
  status: z
    .enum(DELIVERY_STATUSES, { error: `must be one of ${DELIVERY_STATUSES.join(', ')}` })
    .optional()
    .meta({ description: 'Only deliveries in this status.', examples: ['failed'] }),
});

@Controller('v1/runs')
export class RunDeliveriesController {
  constructor(private readonly deliveries: RunDeliveries) {}

  @Get(':id/deliveries')
  @ApiRoute({
    id: 'runs.deliveries',
    tag: 'runs',
    access: 'read',
    summary: 'A run’s deliveries, with why each is where it is',
    description:
      'The run’s ledger rows in the order the fan-out wrote them, optionally of one status: attempts, and `last_error` — why a delivery failed, was skipped or deferred, or is held as `unknown`. Keyset pages; 404 when the run is not the tenant’s.',
    params: runIdParams,
    query: runDeliveriesQuery,
    success: {
      status: 200,
      description: 'A page of deliveries.',
      schema: 'DeliveryPage',
      example: { data: [EXAMPLE_DELIVERY], next_cursor: null },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('run')) id: string,
    @Query(new ZodPipe(runDeliveriesQuery, 'query')) query: z.output<typeof runDeliveriesQuery>,
  ) {
    const limit = query.limit ?? 50;
    const rows = await this.deliveries.page(
      principal.tenantId,
      id,
      query.status,
      cursorPosition(query.cursor)?.id ?? null,
      limit + 1,
    );
    if (!rows) throw notFound('run', id);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      data: page.map(deliveryView),
      next_cursor:
        rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
    };
  }
}
