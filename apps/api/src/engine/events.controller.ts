import {
  Body,
  Catch,
  Controller,
  HttpCode,
  Post,
  Req,
  Res,
  UseFilters,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { EventsService, UnknownCampaignError } from '@herald/sequences';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { IdempotencyService } from '../http/idempotency.service';
import { ApiRoute } from '../http/openapi';
import { problem, sendProblem } from '../http/problem';
import { eventBody, eventResultView, EXAMPLE_EVENT } from './events.schemas';
import { IndexedZodPipe } from './engine-http';

/** An event naming a campaign that is not the tenant's: 404 naming the field. */
@Catch(UnknownCampaignError)
export class SequenceErrorsFilter implements ExceptionFilter {
  catch(exception: UnknownCampaignError, host: ArgumentsHost): void {
    sendProblem(
      host.switchToHttp().getResponse<Response>(),
      problem('not-found', 'No such campaign.', [
        { field: exception.field, message: 'names no campaign of this tenant' },
      ]),
    );
  }
}

@Controller('v1/events')
@UseFilters(SequenceErrorsFilter)
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiRoute({
    id: 'events.create',
    tag: 'sequences',
    access: 'write',
    summary: 'Record a reply, bounce or unsubscribe',
    description: [
      'Something that happened to a contact outside Herald, named by `contact_id` or `email` (exactly one; 404 naming the field when it is not one of the tenant’s contacts). All of it happens in one transaction:',
      'the event joins the contact’s activity (an interaction of its type, dated `occurred_at` if given; `payload` as the activity log defines it for the type: a reply’s subject/text, a bounce’s kind (default hard)/reason, an unsubscribe’s source (default api));',
      'a bounce, an unsubscribe or a complaint (a spam report; payload `source`, `feedback_type`) suppresses the address (the contact when it has no email) and stops every active sequence of the contact;',
      'a reply stops its active sequences too (status replied), only that campaign’s when `campaign_id` is given.',
      'Steps the stopped enrollments still had waiting are cancelled; one being sent at this moment finishes.',
    ].join(' '),
    body: { schema: eventBody, example: EXAMPLE_EVENT },
    idempotent: true,
    success: {
      status: 200,
      description: 'What the event did.',
      schema: 'EventResult',
      example: {
        interaction_id: '0190f5e4-bbbb-7c3d-8e4f-5a6b7c8d9e0f',
        suppressed: false,
        enrollments_stopped: 1,
      },
    },
    problems: ['not-found'],
  })
  record(
    @TenantKey() principal: TenantPrincipal,
    @Body(new IndexedZodPipe(eventBody, 'body')) body: z.output<typeof eventBody>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => ({
      status: 200,
      body: eventResultView(await this.events.record(principal.tenantId, body, manager)),
    }));
  }
}
