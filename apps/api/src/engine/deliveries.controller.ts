import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { UnknownDeliveries, type OperatorOutcome } from '@herald/deliveries';
import { encodeCursor } from '@herald/persistence';
import type { Principal } from '@herald/tenants';
import type { z } from 'zod';
import { Caller } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { ProblemException } from '../http/problem';
import { cursorPosition, IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import {
  closeBody,
  deliveryIdParams,
  deliveryView,
  EXAMPLE_DELIVERY,
  listDeliveriesQuery,
  resendBody,
} from './deliveries.schemas';

/**
 * Deliveries a crash left with an unknown outcome (promise 2), and the operator's decision on
 * each. Access `operator` — a tenant admin key for its own tenant, the platform admin key for
 * every tenant — not `write`: resending can put a second copy in someone's mailbox, and closing
 * rewrites the ledger's account of what happened. That is for whoever answers for the tenant's
 * sending (and the on-call the alert pages), not for every integration holding a write key.
 */
@Controller('v1/deliveries')
export class DeliveriesController {
  constructor(private readonly unknown: UnknownDeliveries) {}

  @Get()
  @ApiRoute({
    id: 'deliveries.list',
    tag: 'deliveries',
    access: 'operator',
    summary: 'List deliveries whose outcome is unknown',
    description:
      'Deliveries held as `unknown`, oldest first: an attempt died between its provider call and its record (a worker killed mid-send), and their sender account takes no repeat (`delivery_guarantee: at_most_once`, the default for SMTP). Nothing sends them again until an operator resends or closes each. A tenant admin sees its own; the platform admin key sees every tenant’s.',
    query: listDeliveriesQuery,
    success: {
      status: 200,
      description: 'A page of deliveries.',
      schema: 'DeliveryPage',
      example: { data: [EXAMPLE_DELIVERY], next_cursor: null },
    },
  })
  async list(
    @Caller() caller: Principal,
    @Query(new ZodPipe(listDeliveriesQuery, 'query')) query: z.output<typeof listDeliveriesQuery>,
  ) {
    const limit = query.limit ?? 50;
    const rows = await this.unknown.list(tenantOf(caller), cursorPosition(query.cursor), limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      data: page.map(deliveryView),
      next_cursor:
        rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
    };
  }

  @Post(':id/resend')
  @HttpCode(200)
  @ApiRoute({
    id: 'deliveries.resend',
    tag: 'deliveries',
    access: 'operator',
    summary: 'Resend a delivery whose outcome is unknown',
    description:
      'Moves an `unknown` delivery back to `pending` and queues it: it is sent again with the same delivery key (an SMTP recipient may then hold two copies — that is the decision taken here). Its run keeps its status; its counts follow. 409 when the delivery is not `unknown` (already resent or closed).',
    params: deliveryIdParams,
    body: { schema: resendBody, example: { reason: 'the provider has no trace of it' } },
    success: {
      status: 200,
      description: 'The delivery, pending.',
      schema: 'Delivery',
      example: {
        ...EXAMPLE_DELIVERY,
        status: 'pending',
        last_error: 'resent by an operator: the provider has no trace of it',
      },
    },
    problems: ['conflict', 'unsupported-media-type', 'payload-too-large'],
  })
  async resend(
    @Caller() caller: Principal,
    @Param('id', new IdPipe('delivery')) id: string,
    @Body(new ZodPipe(resendBody, 'body')) body: z.output<typeof resendBody>,
  ) {
    return answer(id, await this.unknown.resend(tenantOf(caller), id, body?.reason));
  }

  @Post(':id/close')
  @HttpCode(200)
  @ApiRoute({
    id: 'deliveries.close',
    tag: 'deliveries',
    access: 'operator',
    summary: 'Close a delivery whose outcome is unknown',
    description:
      'Settles an `unknown` delivery without sending it: `sent` when the provider has it, `failed` when it did not arrive or a second copy is not worth the risk. The reason is kept in the ledger and in the contact’s interaction; a sequence moves on (sent) or stops (failed) as for any send. 409 when the delivery is not `unknown`.',
    params: deliveryIdParams,
    body: { schema: closeBody, example: { outcome: 'sent', reason: 'delivered per the provider’s log' } },
    success: {
      status: 200,
      description: 'The delivery, closed.',
      schema: 'Delivery',
      example: {
        ...EXAMPLE_DELIVERY,
        status: 'sent',
        last_error: 'closed as sent by an operator: delivered per the provider’s log',
      },
    },
    problems: ['conflict', 'unsupported-media-type', 'payload-too-large'],
  })
  async close(
    @Caller() caller: Principal,
    @Param('id', new IdPipe('delivery')) id: string,
    @Body(new ZodPipe(closeBody, 'body')) body: z.output<typeof closeBody>,
  ) {
    return answer(id, await this.unknown.close(tenantOf(caller), id, body.outcome, body.reason));
  }
}

/** A tenant admin acts on its tenant; the platform admin on any. */
function tenantOf(caller: Principal): string | null {
  return caller.kind === 'platform' ? null : caller.tenantId;
}

function answer(id: string, outcome: OperatorOutcome) {
  if (outcome.kind === 'missing') throw notFound('delivery', id);
  if (outcome.kind === 'not_unknown')
    throw ProblemException.of(
      'conflict',
      `This delivery is ${outcome.status}: only a delivery whose outcome is unknown can be resent or closed.`,
    );
  return deliveryView(outcome.delivery);
}
