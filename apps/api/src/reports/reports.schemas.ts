import { ISO_WEEK, REPORT_DELIVERIES, reportSettingsSchema, type ReportSettings } from '@herald/engagement';
import { z } from 'zod';
import { component, named } from '../http/openapi';

const iso = z.string().meta({ format: 'date-time' });

export const weeklyReportQuery = z.object({
  week: z
    .string()
    .regex(ISO_WEEK, 'must be an ISO week like 2026-W49')
    .optional()
    .meta({
      description: 'The ISO week in the tenant’s time zone; default the last week that has ended.',
      examples: ['2026-W49'],
    }),
});

export const reportSettingsBody = reportSettingsSchema;

const funnel = z.object({
  sent: z.number().int(),
  delivered: z.number().int(),
  opened: z.number().int(),
  clicked: z.number().int(),
  replied: z.number().int(),
  converted: z.number().int(),
  unsubscribed: z.number().int(),
});

export const WeeklyReportSchema = named(
  'WeeklyReport',
  z.object({
    tenant_id: z.uuid(),
    tenant_name: z.string(),
    week: z.string(),
    time_zone: z.string(),
    from: iso,
    to: iso,
    totals: funnel.extend({ bounced: z.number().int(), complained: z.number().int() }),
    daily: z.array(
      z.object({
        date: z.string(),
        sent: z.number().int(),
        replied: z.number().int(),
        clicked: z.number().int(),
      }),
    ),
    campaigns: z.array(
      z.object({
        id: z.uuid(),
        name: z.string(),
        funnel,
        experiments: z.array(
          z.object({
            step: z.number().int(),
            metric: z.string(),
            leader: z.string().nullable(),
            winner: z.string().nullable(),
            promoted: z.string().nullable(),
            variants: z.array(
              z.object({
                name: z.string(),
                sent: z.number().int(),
                rate: z.number().nullable(),
                p: z.number().nullable(),
              }),
            ),
          }),
        ),
      }),
    ),
    deliverability: z.array(
      z.object({
        sender_account_id: z.uuid(),
        name: z.string(),
        sent: z.number().int(),
        bounced: z.number().int(),
        complained: z.number().int(),
        bounce_rate: z.number().nullable(),
        complaint_rate: z.number().nullable(),
      }),
    ),
  }),
);

export const ReportSettingsSchema = component(
  'ReportSettings',
  z.object({
    delivery: z.enum(REPORT_DELIVERIES),
    sender_account_id: z.uuid().nullable(),
    recipients: z.array(z.string()),
    updated_at: iso.nullable(),
  }),
);

export function settingsView(s: ReportSettings) {
  return {
    delivery: s.delivery,
    sender_account_id: s.senderAccountId,
    recipients: s.recipients,
    updated_at: s.updatedAt?.toISOString() ?? null,
  };
}

export const EXAMPLE_SETTINGS = {
  delivery: 'email',
  sender_account_id: '0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f',
  recipients: ['team@example.com'],
  updated_at: '2026-12-07T09:00:00.000Z',
};

export const EXAMPLE_REPORT = {
  tenant_id: '0190f5e4-1111-7c3d-8e4f-5a6b7c8d9e0f',
  tenant_name: 'Acme',
  week: '2026-W49',
  time_zone: 'Europe/Paris',
  from: '2026-11-29T23:00:00.000Z',
  to: '2026-12-06T23:00:00.000Z',
  totals: {
    sent: 1200,
    delivered: 1180,
    opened: 600,
    clicked: 120,
    replied: 40,
    converted: 6,
    unsubscribed: 3,
    bounced: 20,
    complained: 1,
  },
  daily: [{ date: '2026-11-30', sent: 400, replied: 10, clicked: 30 }],
  campaigns: [
    {
      id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
      name: 'November newsletter',
      funnel: {
        sent: 1200,
        delivered: 1180,
        opened: 600,
        clicked: 120,
        replied: 40,
        converted: 6,
        unsubscribed: 3,
      },
      experiments: [
        {
          step: 0,
          metric: 'reply',
          leader: 'B',
          winner: 'B',
          promoted: 'B',
          variants: [
            { name: 'A', sent: 300, rate: 0.0333, p: 0.0011 },
            { name: 'B', sent: 300, rate: 0.1, p: null },
          ],
        },
      ],
    },
  ],
  deliverability: [
    {
      sender_account_id: '0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f',
      name: 'Newsletter SMTP',
      sent: 1200,
      bounced: 20,
      complained: 1,
      bounce_rate: 0.0167,
      complaint_rate: 0.0008,
    },
  ],
};
