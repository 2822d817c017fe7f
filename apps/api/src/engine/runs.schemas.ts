import { RUN_STATUSES, type Recipient, type RunRecord } from '@herald/campaigns';
import { z } from 'zod';
import { named } from '../http/openapi';
import { pageQuery } from '../tenants/tenants.schemas';

const iso = z.string().meta({ format: 'date-time' });

export const startRunBody = z
  .strictObject({
    dry_run: z.boolean('must be true or false').optional().meta({
      description:
        'Forecast only: the run completes at once with its `forecast` (who would receive what, and when, under the sender account’s quotas) and sends nothing. Its recipients: GET /v1/runs/{id}/recipients.',
    }),
  })
  .optional();

export const runIdParams = z.object({
  id: z.uuid().meta({ examples: ['0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f'] }),
});

/** Action routes take no body: nothing, or `{}`. */
export const noBody = z.strictObject({}).optional();

export const RunStartedSchema = named(
  'RunStarted',
  z.object({ id: z.uuid(), status: z.enum(RUN_STATUSES), dry_run: z.boolean() }),
);

export const ForecastSchema = named(
  'RunForecast',
  z.object({
    audience: z.number().int().meta({ description: 'Contacts the audience matched.' }),
    targeted: z.number().int().meta({ description: 'Contacts that would be sent to.' }),
    already_sent_keys: z.number().int().meta({
      description:
        'Contacts left out because their delivery key is already in the ledger (a birthday greeted this year).',
    }),
    skipped: z
      .object({ suppressed: z.number().int(), run_cap: z.number().int(), quota: z.number().int() })
      .meta({
        description:
          'Contacts left out: suppressed, beyond the run cap, or without room in the quota windows (the skip policy).',
      }),
    by_day: z
      .array(z.object({ date: z.string().meta({ format: 'date' }), count: z.number().int() }))
      .meta({ description: 'Deliveries per local date of the sender account’s zone.' }),
    finishes_at: iso.nullable(),
    summary: z.string(),
    variants: z
      .object({
        promoted: z.string().nullable().meta({ description: 'The variant everyone gets, once promoted.' }),
        split: z.array(
          z.object({ variant: z.string(), weight: z.number().int(), contacts: z.number().int() }),
        ),
      })
      .optional()
      .meta({
        description:
          'A step with A/B/n variants: how many of the contacts the run would reach (before the run cap and quota) get each variant, by the same hash the send uses.',
      }),
  }),
);

export const RunSchema = named(
  'Run',
  z.object({
    id: z.uuid(),
    campaign_id: z.uuid(),
    status: z.enum(RUN_STATUSES),
    trigger: z.enum(['schedule', 'manual']),
    dry_run: z.boolean(),
    counts: z
      .object({
        targeted: z
          .number()
          .int()
          .meta({ description: 'Contacts the run reached (a dry run: would reach).' }),
        pending: z.number().int().meta({ description: 'Waiting for a send, or being sent.' }),
        sent: z.number().int(),
        failed: z.number().int(),
        skipped: z.number().int().meta({
          description: 'Suppressed, inactive, over the run cap, or out of quota with the skip policy.',
        }),
        deferred: z.number().int().meta({ description: 'Waiting for the quota window to reset.' }),
        cancelled: z.number().int(),
        unknown: z.number().int().meta({
          description:
            'Held for an operator: a crash left the send’s outcome unknown and the sender account takes no repeat (GET /v1/deliveries?status=unknown). Done, for the run’s progress.',
        }),
      })
      .meta({ description: 'Deliveries of the run by status, from the ledger.' }),
    created_at: iso,
    started_at: iso.nullable(),
    finished_at: iso.nullable(),
    progress: z
      .object({
        done: z.number().int().meta({
          description: 'Deliveries sent, failed, skipped, cancelled or unknown (held for an operator).',
        }),
        total: z.number().int().meta({ description: '`counts.targeted`.' }),
        ratio: z.number().min(0).max(1).meta({ description: '`done / total`, 1 once the run is completed.' }),
        fanout_done: z.boolean().meta({
          description: 'False while the run is still writing its deliveries: `total` is still growing.',
        }),
      })
      .meta({ description: 'How far the run is.' }),
    rate_per_second: z.number().min(0).meta({
      description: 'Sends per second over the last minute of the run (since it started, if that is shorter).',
    }),
    eta: iso.nullable().meta({
      description:
        'When the last remaining delivery (pending, sending or deferred) should go out: the later of what the sender account’s quota windows allow (what is left in the current hourly/daily/weekly windows, then their full limits) and the recent send rate. Null while fanning out, when nothing is left, or with no basis for a guess.',
    }),
    eta_reason: z
      .enum(['rate', 'quota'])
      .nullable()
      .meta({ description: 'What decides the `eta`: the send rate or a quota window.' }),
    forecast: ForecastSchema.nullable().meta({ description: 'A dry run’s forecast; null for real runs.' }),
  }),
);

export const recipientsQuery = pageQuery;

export const RecipientSchema = named(
  'RunRecipient',
  z.object({
    contact_id: z.uuid(),
    email: z.string().nullable(),
    delivery_key: z.string().meta({ description: 'The key its delivery would have in the ledger.' }),
    subject: z.string().nullable().meta({ description: 'The subject, rendered for this contact.' }),
    variant: z
      .string()
      .optional()
      .meta({ description: 'The A/B/n variant this contact would get (absent when the step has none).' }),
    render_error: z
      .string()
      .nullable()
      .meta({ description: 'Why its message cannot be rendered: the real run would fail this delivery.' }),
    due_at: iso.nullable().meta({
      description: 'The earliest the sender account’s quota (and the send window) lets it go out.',
    }),
  }),
);

export const RecipientPageSchema = named(
  'RunRecipientPage',
  z.object({ data: z.array(RecipientSchema), next_cursor: z.string().nullable() }),
);

export const EXAMPLE_RUN = {
  id: '0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f',
  campaign_id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
  status: 'running',
  trigger: 'manual',
  dry_run: false,
  counts: {
    targeted: 500,
    pending: 120,
    sent: 370,
    failed: 2,
    skipped: 8,
    deferred: 0,
    cancelled: 0,
    unknown: 0,
  },
  created_at: '2026-11-22T10:20:00.000Z',
  started_at: '2026-11-22T10:20:00.150Z',
  finished_at: null,
  progress: { done: 380, total: 500, ratio: 0.76, fanout_done: true },
  rate_per_second: 2.5,
  eta: '2026-11-22T10:20:48.000Z',
  eta_reason: 'rate',
  forecast: null,
};

export const EXAMPLE_RECIPIENTS = {
  data: [
    {
      contact_id: '0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f',
      email: 'ada@example.com',
      delivery_key: 'bc:0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f:0190f5e4-7777-7c3d-8e4f-5a6b7c8d9e0f',
      subject: 'Hello Ada',
      render_error: null,
      due_at: '2026-11-22T10:20:00.000Z',
    },
  ],
  next_cursor: 'WzEsMSwiMDE5MGY1ZTQtNzc3Ny03YzNkLThlNGYtNWE2YjdjOGQ5ZTBmIl0',
};

export function runStartedView(r: RunRecord) {
  return { id: r.id, status: r.status, dry_run: r.dryRun };
}

export function runView(r: RunRecord) {
  const d = r.deliveries;
  const done = d.sent + d.failed + d.skipped + d.cancelled + d.unknown;
  return {
    id: r.id,
    campaign_id: r.campaignId,
    status: r.status,
    trigger: r.trigger,
    dry_run: r.dryRun,
    counts: {
      targeted: r.targeted,
      pending: d.pending + d.sending,
      sent: d.sent,
      failed: d.failed,
      skipped: d.skipped,
      deferred: d.deferred,
      cancelled: d.cancelled,
      unknown: d.unknown,
    },
    created_at: r.createdAt.toISOString(),
    started_at: r.startedAt?.toISOString() ?? null,
    finished_at: r.finishedAt?.toISOString() ?? null,
    progress: {
      done,
      total: r.targeted,
      ratio:
        r.status === 'completed'
          ? 1
          : r.targeted > 0
            ? Math.round(Math.min(1, done / r.targeted) * 10_000) / 10_000
            : 0,
      fanout_done: r.fanoutDone,
    },
    rate_per_second: Math.round(r.ratePerSecond * 100) / 100,
    eta: r.eta?.toISOString() ?? null,
    eta_reason: r.etaReason,
    forecast: forecastView(r.forecast),
  };
}

function forecastView(f: RunRecord['forecast']) {
  if (!f) return null;
  return {
    audience: f.audience,
    targeted: f.targeted,
    already_sent_keys: f.already_sent_keys,
    skipped: f.skipped,
    by_day: f.by_day,
    finishes_at: f.finishes_at,
    summary: f.summary,
    ...(f.variants ? { variants: f.variants } : {}),
  };
}

export function recipientView(r: Recipient) {
  return {
    contact_id: r.contactId,
    email: r.email,
    delivery_key: r.deliveryKey,
    subject: r.subject,
    ...(r.variant !== null ? { variant: r.variant } : {}),
    render_error: r.renderError,
    due_at: r.dueAt?.toISOString() ?? null,
  };
}
