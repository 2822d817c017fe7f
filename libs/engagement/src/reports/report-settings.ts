import { emailSchema } from '@herald/contacts';
import { z } from 'zod';

export const REPORT_DELIVERIES = ['email', 'webhook', 'off'] as const;
export type ReportDeliveryKind = (typeof REPORT_DELIVERIES)[number];

/** Where a tenant's weekly report goes, as the API takes it. */
export const reportSettingsSchema = z
  .strictObject({
    delivery: z.enum(REPORT_DELIVERIES, { error: `must be one of ${REPORT_DELIVERIES.join(', ')}` }),
    sender_account_id: z
      .uuid('must be a UUID')
      .transform((id) => id.toLowerCase())
      .optional(),
    recipients: z
      .array(emailSchema)
      .max(20, 'must have at most 20 addresses')
      .transform((list) => [...new Set(list)])
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (s.delivery !== 'off' && !s.sender_account_id)
      ctx.addIssue({
        code: 'custom',
        path: ['sender_account_id'],
        message: `name the ${s.delivery === 'email' ? 'smtp' : 'webhook'} sender account the report goes through`,
      });
    if (s.delivery === 'email' && (s.recipients ?? []).length === 0)
      ctx.addIssue({ code: 'custom', path: ['recipients'], message: 'give at least one address' });
    if (s.delivery !== 'email' && (s.recipients ?? []).length > 0)
      ctx.addIssue({
        code: 'custom',
        path: ['recipients'],
        message: 'only an emailed report has recipients',
      });
  });
export type ReportSettingsInput = z.output<typeof reportSettingsSchema>;

export interface ReportSettings {
  delivery: ReportDeliveryKind;
  senderAccountId: string | null;
  recipients: string[];
  updatedAt: Date | null;
}

/** The account a report setting names is not one of the tenant's, or not of the right channel. */
export class ReportSettingsError extends Error {
  constructor(
    readonly kind: 'not-found' | 'invalid',
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReportSettingsError';
  }
}
