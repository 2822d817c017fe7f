import { DEFAULT_LAYOUT, layoutProblems } from '@herald/deliveries';
import { z } from 'zod';
import { named } from '../http/openapi';

export const previewBody = z.strictObject({
  contact_id: z.uuid('must be a UUID').transform((id) => id.toLowerCase()),
  step: z.number().int('must be a whole number').min(0, 'must not be negative').max(100).optional(),
});

export const MessagePreviewSchema = named(
  'MessagePreview',
  z.object({
    subject: z.string().nullable(),
    text: z.string().meta({ description: 'The text part.' }),
    html: z
      .string()
      .meta({ description: 'The HTML part: in the tenant’s layout, with the footer and tracking.' }),
    headers: z.record(z.string(), z.string()).meta({
      description:
        'Headers the message adds (List-Unsubscribe, List-Unsubscribe-Post). A preview’s links are signed for no delivery: its unsubscribe link unsubscribes nobody.',
    }),
  }),
);

/** The largest layout a tenant may store (the column's bound). */
export const LAYOUT_MAX_CHARS = 200_000;

export const emailLayoutBody = z.strictObject({
  layout: z
    .string()
    .max(LAYOUT_MAX_CHARS, `must be at most ${LAYOUT_MAX_CHARS} characters`)
    .superRefine((value, ctx) => {
      for (const message of layoutProblems(value)) ctx.addIssue({ code: 'custom', message });
    })
    .nullable(),
});

export const EmailLayoutSchema = named(
  'EmailLayout',
  z.object({
    layout: z.string().nullable().meta({ description: 'The tenant’s layout; null: the default one.' }),
    default_layout: z.string().meta({ description: 'The layout used while `layout` is null.' }),
  }),
);

export const EXAMPLE_LAYOUT =
  '<!doctype html><html><body><header>ACME</header>{{{content}}}<footer>{{{footer}}}</footer></body></html>';

export function emailLayoutView(layout: string | null) {
  return { layout, default_layout: DEFAULT_LAYOUT };
}
