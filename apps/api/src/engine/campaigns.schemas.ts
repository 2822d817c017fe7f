import {
  CAMPAIGN_KINDS,
  CAMPAIGN_STATUSES,
  campaignCreateSchema,
  campaignPatchSchema,
  CATCH_UP_POLICIES,
  QUOTA_POLICIES,
  WEEKDAYS,
  type CampaignRecord,
} from '@herald/campaigns';
import { EXPERIMENT_METRICS, MESSAGE_FORMATS } from '@herald/deliveries';
import { z } from 'zod';
import { component, named } from '../http/openapi';
import { pageQuery } from '../tenants/tenants.schemas';

const iso = z.string().meta({ format: 'date-time' });

export const campaignBody = campaignCreateSchema;
export const campaignPatchBody = campaignPatchSchema;

export const campaignIdParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f'] }),
});

export const campaignListQuery = pageQuery.extend({
  kind: z
    .enum(CAMPAIGN_KINDS, { error: `must be one of ${CAMPAIGN_KINDS.join(', ')}` })
    .optional()
    .meta({ description: 'Only campaigns of this kind.', examples: ['broadcast'] }),
  status: z
    .enum(CAMPAIGN_STATUSES, { error: `must be one of ${CAMPAIGN_STATUSES.join(', ')}` })
    .optional()
    .meta({ description: 'Only this status. Default: every status but archived.', examples: ['active'] }),
});

const localTime = z.string().meta({ description: 'Local time of day, HH:MM.', examples: ['09:00'] });
const days = z.array(z.enum(WEEKDAYS)).meta({ description: 'Days of the week; absent: every day.' });

export const CampaignSchema = named(
  'Campaign',
  z.object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum([...CAMPAIGN_KINDS, 'sourcing']),
    status: z.enum(CAMPAIGN_STATUSES),
    sender_account_id: z.uuid(),
    steps: z.array(
      z.object({
        delay: z
          .number()
          .int()
          .nullable()
          .meta({ description: 'Sequences: seconds after the previous step (or the enrollment).' }),
        subject: z.string().nullable(),
        body: z.string(),
        html: z.boolean(),
        format: z.enum(MESSAGE_FORMATS).meta({
          description:
            'How the body is written: `text`, `markdown` or `html` (contact values are escaped in HTML). Every email goes out as text and HTML.',
        }),
        variants: z
          .array(
            z.object({
              name: z.string(),
              weight: z.number().int(),
              subject: z.string().optional(),
              body: z.string().optional(),
              html: z.boolean().optional(),
            }),
          )
          .optional()
          .meta({
            description:
              'A/B/n: each contact gets one variant (by a hash of contact, campaign and step, in proportion to the weights); its subject and body replace the step’s.',
          }),
        experiment: z
          .object({
            metric: z.enum(EXPERIMENT_METRICS),
            min_sample: z.number().int(),
            confidence: z.number(),
            auto_promote: z.boolean(),
          })
          .optional()
          .meta({
            description:
              'How the variants’ winner is called: the two-proportion z-test on `metric` once each variant has `min_sample` sends; `auto_promote` gives the rest of the audience the winner.',
          }),
      }),
    ),
    audience: z
      .object({
        tags: z.array(z.string()).optional(),
        created_after: iso.optional(),
        created_before: iso.optional(),
        q: z.string().optional(),
      })
      .meta({
        description: 'Which active contacts a run reaches (the contact list’s filters); {} is all of them.',
      }),
    schedule: z
      .object({ at: localTime, days: days.optional(), time_zone: z.string().optional() })
      .nullable()
      .meta({
        description:
          'When runs start by themselves: at `at` on `days`, in `time_zone` (default the tenant’s); at most one run a day. A birthday run greets the contacts whose birthday it is in their own time zone (or the tenant’s). Sequences have none.',
      }),
    send_window: z
      .object({ start: localTime, end: localTime, days: days.optional(), time_zone: z.string().optional() })
      .nullable()
      .meta({
        description:
          'When deliveries may go out: from `start` to `end` (an end before the start runs past midnight) on `days`, in `time_zone` (default the sender account’s).',
      }),
    run_cap: z.number().int().nullable().meta({ description: 'At most this many sends per run.' }),
    quota_policy: z.enum(QUOTA_POLICIES).meta({
      description:
        'When the sender account’s quota is spent: `defer` waits for the window to reset, `skip` gives the delivery up.',
    }),
    catch_up: z.enum(CATCH_UP_POLICIES).meta({
      description:
        'A scheduled run missed while the fleet was down: `fire_once` runs it once when the fleet is back, `skip` lets it pass.',
    }),
    tracking: z.object({ opens: z.boolean(), clicks: z.boolean() }).meta({
      description:
        'Open pixel and click redirects (signed links; only to the message’s own links). Off unless turned on.',
    }),
    created_at: iso,
    updated_at: iso,
  }),
);
export const CampaignListSchema = component(
  'CampaignList',
  z.object({ data: z.array(CampaignSchema), next_cursor: z.string().nullable() }),
);

export const EXAMPLE_CAMPAIGN = {
  id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
  name: 'November newsletter',
  kind: 'broadcast',
  status: 'active',
  sender_account_id: '0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f',
  steps: [
    {
      delay: null,
      subject: 'News for {{ first_name | "you" }}',
      body: 'Hello {{ first_name | "there" }}, here is what changed this month.',
      html: false,
      format: 'text',
    },
  ],
  audience: { tags: ['newsletter'] },
  schedule: null,
  send_window: { start: '09:00', end: '18:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] },
  run_cap: 10000,
  quota_policy: 'defer',
  catch_up: 'fire_once',
  tracking: { opens: false, clicks: false },
  created_at: '2026-11-22T10:15:00.000Z',
  updated_at: '2026-11-22T10:15:00.000Z',
};

export const EXAMPLE_CAMPAIGN_INPUT = {
  name: EXAMPLE_CAMPAIGN.name,
  kind: 'broadcast',
  sender_account_id: EXAMPLE_CAMPAIGN.sender_account_id,
  steps: [{ subject: EXAMPLE_CAMPAIGN.steps[0]!.subject, body: EXAMPLE_CAMPAIGN.steps[0]!.body }],
  audience: { tags: ['newsletter'] },
  send_window: EXAMPLE_CAMPAIGN.send_window,
  run_cap: 10000,
  quota_policy: 'defer',
};

export function campaignView(c: CampaignRecord) {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    status: c.status,
    sender_account_id: c.senderAccountId,
    steps: c.steps.map((s) => ({
      delay: s.delay_seconds ?? null,
      subject: s.subject ?? null,
      body: s.body,
      html: s.html === true,
      format: s.format ?? (s.html === true ? 'html' : 'text'),
      ...(s.variants ? { variants: s.variants } : {}),
      ...(s.experiment ? { experiment: s.experiment } : {}),
    })),
    audience: c.audience,
    schedule: c.schedule,
    send_window: c.sendWindow,
    run_cap: c.runCap,
    quota_policy: c.quotaPolicy,
    catch_up: c.catchUp,
    tracking: c.tracking,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}
