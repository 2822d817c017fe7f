import { Body, Controller, Get, Put } from '@nestjs/common';
import type { TenantPrincipal } from '@herald/tenants';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { ZodPipe } from '../http/validation.pipes';
import { EmailLayoutRepository } from './email-layout.repository';
import { emailLayoutBody, emailLayoutView, EXAMPLE_LAYOUT } from './mail.schemas';

/** The tenant's HTML layout: the frame of every email it sends. */
@Controller('v1/email-layout')
export class EmailLayoutController {
  constructor(private readonly layouts: EmailLayoutRepository) {}

  @Get()
  @ApiRoute({
    id: 'emailLayout.get',
    tag: 'mail',
    access: 'read',
    summary: 'Get the email layout',
    description: 'The tenant’s HTML layout (null while it uses the default, also returned).',
    success: {
      status: 200,
      description: 'The layout.',
      schema: 'EmailLayout',
      example: { layout: EXAMPLE_LAYOUT, default_layout: '<!doctype html>…' },
    },
  })
  async get(@TenantKey() principal: TenantPrincipal) {
    return emailLayoutView(await this.layouts.get(principal.tenantId));
  }

  @Put()
  @ApiRoute({
    id: 'emailLayout.set',
    tag: 'mail',
    access: 'admin',
    summary: 'Set the email layout',
    description:
      'HTML around every email’s content: `{{{content}}}` (exactly once) is where the message goes, `{{{footer}}}` (optional; after the content when absent) where the footer goes (the sender account’s `postal_address` and the unsubscribe link). Written as is (it is the tenant’s own markup); contact values never reach it unescaped. null restores the default. Applies to messages rendered from now on.',
    body: { schema: emailLayoutBody, example: { layout: EXAMPLE_LAYOUT } },
    success: {
      status: 200,
      description: 'The layout now in use.',
      schema: 'EmailLayout',
      example: { layout: EXAMPLE_LAYOUT, default_layout: '<!doctype html>…' },
    },
  })
  async set(
    @TenantKey() principal: TenantPrincipal,
    @Body(new ZodPipe(emailLayoutBody, 'body')) body: z.output<typeof emailLayoutBody>,
  ) {
    await this.layouts.set(principal.tenantId, body.layout);
    return emailLayoutView(body.layout);
  }
}
