import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { CampaignsRepository } from '@herald/campaigns';
import {
  MessageRenderer,
  pickVariant,
  PREVIEW_DELIVERY_ID,
  SenderAccountsRepository,
  TemplateError,
  type MessageRecipient,
} from '@herald/deliveries';
import type { TenantPrincipal } from '@herald/tenants';
import type { DataSource } from 'typeorm';
import type { z } from 'zod';
import { campaignIdParams } from '../engine/campaigns.schemas';
import { TenantKey } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { ProblemException } from '../http/problem';
import { IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import { EmailLayoutRepository } from './email-layout.repository';
import { previewBody } from './mail.schemas';

/** `POST /v1/campaigns/:id/preview`: one step rendered for one real contact, by the renderer the send uses. */
@Controller('v1/campaigns')
export class CampaignPreviewController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly campaigns: CampaignsRepository,
    private readonly accounts: SenderAccountsRepository,
    private readonly layouts: EmailLayoutRepository,
    private readonly renderer: MessageRenderer,
  ) {}

  @Post(':id/preview')
  @HttpCode(200)
  @ApiRoute({
    id: 'campaigns.preview',
    tag: 'campaigns',
    access: 'read',
    summary: 'Preview a step for a contact',
    description:
      'Renders step `step` (default 0) for the contact exactly as a send would (MessageRenderer: the tenant’s layout, the sender account’s footer, the campaign’s tracking): subject, text and HTML parts, and the headers. Sends nothing, records nothing. 400 naming `contact_id` when the step’s template cannot be rendered for this contact (a variable without value or fallback), `step` when the campaign has no such step.',
    params: campaignIdParams,
    body: { schema: previewBody, example: { contact_id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f', step: 0 } },
    success: {
      status: 200,
      description: 'The message as it would be sent.',
      schema: 'MessagePreview',
      example: {
        subject: 'News for Ada',
        text: 'Hello Ada, here is what changed this month.\n\n-- \nUnsubscribe: https://mail.example.com/u/AQ…',
        html: '<!doctype html>…',
        headers: {
          'List-Unsubscribe': '<https://mail.example.com/u/AQ…>',
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
      },
    },
    problems: ['not-found'],
  })
  async preview(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('campaign')) id: string,
    @Body(new ZodPipe(previewBody, 'body')) body: z.output<typeof previewBody>,
  ) {
    const { tenantId } = principal;
    const campaign = await this.campaigns.find(tenantId, id);
    if (!campaign) throw notFound('campaign', id);
    const step = body.step ?? 0;
    const content = campaign.steps[step];
    if (!content) {
      throw ProblemException.of('validation-failed', `The campaign has ${campaign.steps.length} step(s).`, [
        { field: 'step', message: `names no step of this campaign (0 to ${campaign.steps.length - 1})` },
      ]);
    }
    const contact = await this.contact(tenantId, body.contact_id);
    if (!contact) {
      throw ProblemException.of('not-found', 'No such contact.', [
        { field: 'contact_id', message: 'names no contact of this tenant' },
      ]);
    }
    const account = await this.accounts.find(tenantId, campaign.senderAccountId);
    // The contact's A/B/n variant, as the send picks it (a promoted one for everyone).
    const [experiment] = await this.dataSource.query<{ promoted_variant: string | null }[]>(
      `SELECT promoted_variant FROM campaign_experiments WHERE tenant_id = $1 AND campaign_id = $2 AND step = $3`,
      [tenantId, campaign.id, step],
    );
    const picked = pickVariant(
      content,
      { contactId: contact.id, campaignId: campaign.id, step },
      experiment?.promoted_variant,
    );
    try {
      const message = this.renderer.message(
        { tenantId, deliveryId: PREVIEW_DELIVERY_ID, campaignId: campaign.id, runId: null },
        {
          step,
          content: picked.content,
          contact,
          sender: {
            id: campaign.senderAccountId,
            channel: account?.channel ?? '',
            settings: account?.settings,
          },
          layout: await this.layouts.get(tenantId),
          tracking: campaign.tracking,
        },
      );
      return { subject: message.subject, text: message.body, html: message.html, headers: message.headers };
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      throw ProblemException.of('validation-failed', 'The step cannot be rendered for this contact.', [
        { field: 'contact_id', message: error.message },
      ]);
    }
  }

  private async contact(tenantId: string, id: string): Promise<MessageRecipient | undefined> {
    const [row] = await this.dataSource.query<
      {
        id: string;
        email: string | null;
        first_name: string | null;
        last_name: string | null;
        external_ref: string | null;
        attributes: Record<string, unknown>;
      }[]
    >(
      `SELECT id, email, first_name, last_name, external_ref, attributes FROM contacts WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return (
      row && {
        id: row.id,
        email: row.email,
        firstName: row.first_name,
        lastName: row.last_name,
        externalRef: row.external_ref,
        attributes: row.attributes,
      }
    );
  }
}
