import { RUN_STATUSES, type RunRecord } from '@herald/campaigns';
import { z } from 'zod';
import { named } from '../http/openapi';

const iso = z.string().meta({ format: 'date-time' });

export const startRunBody = z
  .strictObject({
    dry_run: z.boolean('must be true or false').optional().meta({
      description:
        'Count the audience only: the run completes at once with `counts.targeted` and sends nothing.',
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
      })
      .meta({ description: 'Deliveries of the run by status, from the ledger.' }),
    created_at: iso,
    started_at: iso.nullable(),
    finished_at: iso.nullable(),
  }),
);

export const EXAMPLE_RUN = {
  id: '0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f',
  campaign_id: '0190f5e4-8888-7c3d-8e4f-5a6b7c8d9e0f',
  status: 'running',
  trigger: 'manual',
  dry_run: false,
  counts: { targeted: 500, pending: 120, sent: 370, failed: 2, skipped: 8, deferred: 0, cancelled: 0 },
  created_at: '2026-11-22T10:20:00.000Z',
  started_at: '2026-11-22T10:20:00.150Z',
  finished_at: null,
};

export function runStartedView(r: RunRecord) {
  return { id: r.id, status: r.status, dry_run: r.dryRun };
}

export function runView(r: RunRecord) {
  const d = r.deliveries;
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
    },
    created_at: r.createdAt.toISOString(),
    started_at: r.startedAt?.toISOString() ?? null,
    finished_at: r.finishedAt?.toISOString() ?? null,
  };
}
