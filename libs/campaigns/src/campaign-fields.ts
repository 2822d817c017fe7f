import { plainText, tagSchema } from '@herald/contacts';
import { EXPERIMENT_METRICS, MESSAGE_FORMATS, templateProblems } from '@herald/deliveries';
import { timeZoneSchema } from '@herald/time';
import { z } from 'zod';

/**
 * Campaign fields as they travel on the wire (snake_case), validated once here. `sourcing`
 * campaigns exist in the schema for a later issue; the API does not create them yet.
 */
export const CAMPAIGN_KINDS = ['broadcast', 'birthday', 'sequence'] as const;
export type CampaignKind = (typeof CAMPAIGN_KINDS)[number] | 'sourcing';
export const CAMPAIGN_STATUSES = ['active', 'paused', 'archived'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
export const QUOTA_POLICIES = ['defer', 'skip'] as const;
export type QuotaPolicy = (typeof QUOTA_POLICIES)[number];
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** A schedule slot missed (fleet down, Redis lost): run it once late (`fire_once`) or let it pass (`skip`). */
export const CATCH_UP_POLICIES = ['fire_once', 'skip'] as const;
export type CatchUpPolicy = (typeof CATCH_UP_POLICIES)[number];

export const CAMPAIGN_LIMITS = {
  steps: 20,
  subject: 998,
  body: 100_000,
  /** A year. */
  delaySeconds: 365 * 86_400,
  runCap: 10_000_000,
  audienceTags: 10,
  variants: 10,
  variantWeight: 1000,
  minSample: 1_000_000,
} as const;

const NO_CONTROL = /^[^\p{Cc}]*$/u;

/** A template: `{{ tag }}`s must be well formed (values are checked when each message renders). */
const template = (base: z.ZodString) =>
  base.superRefine((value, ctx) => {
    for (const message of templateProblems(value)) ctx.addIssue({ code: 'custom', message });
  });

const subjectField = template(
  z
    .string()
    .min(1, 'must not be empty')
    .max(CAMPAIGN_LIMITS.subject, `must be at most ${CAMPAIGN_LIMITS.subject} characters`)
    .regex(NO_CONTROL, 'must be one line without control characters'),
);
const bodyField = template(
  z
    .string()
    .min(1, 'must not be empty')
    .max(CAMPAIGN_LIMITS.body, `must be at most ${CAMPAIGN_LIMITS.body} characters`),
);

/** One arm of an A/B/n test: what it changes of the step, and its share (weight over the step's total). */
export const variantSchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/,
        'must be 1 to 40 letters, digits, _ . - (starting with a letter or digit)',
      ),
    weight: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(CAMPAIGN_LIMITS.variantWeight, `must be at most ${CAMPAIGN_LIMITS.variantWeight}`)
      .default(1),
    subject: subjectField.optional(),
    body: bodyField.optional(),
    html: z.boolean().optional(),
  })
  .refine((v) => v.subject !== undefined || v.body !== undefined, {
    message: 'a variant changes the subject, the body or both: give at least one',
  });

/** How a step's experiment is decided: on which outcome, after how many sends per variant, at which confidence. */
export const experimentSchema = z.strictObject({
  metric: z
    .enum(EXPERIMENT_METRICS, { error: `must be one of ${EXPERIMENT_METRICS.join(', ')}` })
    .default('reply'),
  min_sample: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(CAMPAIGN_LIMITS.minSample, `must be at most ${CAMPAIGN_LIMITS.minSample}`)
    .default(100),
  confidence: z.number().min(0.5, 'must be at least 0.5').max(0.999, 'must be at most 0.999').default(0.95),
  auto_promote: z.boolean().default(false),
});

export const stepSchema = z
  .strictObject({
    delay: z
      .number()
      .int('must be a whole number of seconds')
      .min(0, 'must not be negative')
      .max(CAMPAIGN_LIMITS.delaySeconds, `must be at most ${CAMPAIGN_LIMITS.delaySeconds} seconds (a year)`)
      .optional(),
    subject: subjectField.optional(),
    body: bodyField,
    html: z.boolean().optional(),
    /** How the body is written (wins over `html`); every email goes out as text and HTML either way. */
    format: z.enum(MESSAGE_FORMATS, { error: `must be one of ${MESSAGE_FORMATS.join(', ')}` }).optional(),
    variants: z
      .array(variantSchema)
      .min(2, 'an experiment has at least two variants')
      .max(CAMPAIGN_LIMITS.variants, `must have at most ${CAMPAIGN_LIMITS.variants} variants`)
      .optional(),
    experiment: experimentSchema.optional(),
  })
  .superRefine((step, ctx) => {
    const seen = new Set<string>();
    step.variants?.forEach((v, i) => {
      if (seen.has(v.name))
        ctx.addIssue({ code: 'custom', path: ['variants', i, 'name'], message: `${v.name} is named twice` });
      seen.add(v.name);
    });
    if (step.experiment && !step.variants)
      ctx.addIssue({ code: 'custom', path: ['experiment'], message: 'an experiment needs variants' });
  });
export type StepInput = z.output<typeof stepSchema>;

/** Opens (a pixel) and clicks (redirects through Herald): each off unless turned on. */
export const trackingSchema = z.strictObject({
  opens: z.boolean({ error: 'must be true or false' }),
  clicks: z.boolean({ error: 'must be true or false' }),
});
export type Tracking = z.output<typeof trackingSchema>;

const instant = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time with a time zone, like 2026-01-31T00:00:00Z',
});

/** Which contacts a run reaches: the contact list's filters. Only active contacts are ever reached. */
export const audienceSchema = z.strictObject({
  tags: z
    .array(tagSchema)
    .max(CAMPAIGN_LIMITS.audienceTags, `must have at most ${CAMPAIGN_LIMITS.audienceTags} tags`)
    .transform((tags) => [...new Set(tags)])
    .optional(),
  created_after: instant.optional(),
  created_before: instant.optional(),
  q: plainText(100).optional(),
});
export type Audience = z.output<typeof audienceSchema>;

const localTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time of day, HH:MM from 00:00 to 23:59');
const weekdays = z
  .array(z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(', ')}` }))
  .min(1, 'give at least one day')
  .max(7)
  .transform((days) => WEEKDAYS.filter((d) => days.includes(d)));

/**
 * When runs start by themselves: at `at` local time on `days` (default every day), in
 * `time_zone` (default the tenant's). At most one run a day (the beat turns it into a BullMQ
 * job scheduler in that zone).
 */
export const scheduleSchema = z.strictObject({
  at: localTime,
  days: weekdays.optional(),
  time_zone: timeZoneSchema.optional(),
});
export type Schedule = z.output<typeof scheduleSchema>;

/**
 * When deliveries may go out: from `start` to `end` local time (an `end` before `start` runs past
 * midnight) on `days` (default every day), in `time_zone` (default the sender account's).
 */
export const sendWindowSchema = z
  .strictObject({
    start: localTime,
    end: localTime,
    days: weekdays.optional(),
    time_zone: timeZoneSchema.optional(),
  })
  .refine((w) => w.start !== w.end, { path: ['end'], message: 'must differ from start' });
export type SendWindow = z.output<typeof sendWindowSchema>;

const runCap = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(CAMPAIGN_LIMITS.runCap, `must be at most ${CAMPAIGN_LIMITS.runCap}`);
const quotaPolicy = z.enum(QUOTA_POLICIES, { error: 'must be defer or skip' });
const catchUp = z.enum(CATCH_UP_POLICIES, { error: 'must be fire_once or skip' });
const steps = z
  .array(stepSchema)
  .min(1, 'give at least one step')
  .max(CAMPAIGN_LIMITS.steps, `must have at most ${CAMPAIGN_LIMITS.steps} steps`);

export const campaignCreateSchema = z
  .strictObject({
    name: plainText(200),
    kind: z.enum(CAMPAIGN_KINDS, { error: `must be one of ${CAMPAIGN_KINDS.join(', ')}` }),
    sender_account_id: z.uuid('must be a UUID').transform((id) => id.toLowerCase()),
    steps,
    audience: audienceSchema.optional(),
    schedule: scheduleSchema.optional(),
    send_window: sendWindowSchema.optional(),
    run_cap: runCap.optional(),
    quota_policy: quotaPolicy.optional(),
    catch_up: catchUp.optional(),
    tracking: trackingSchema.optional(),
  })
  .superRefine((campaign, ctx) => {
    for (const problem of stepRuleProblems(campaign.kind, campaign.steps)) ctx.addIssue(problem);
    for (const problem of scheduleRuleProblems(campaign.kind, campaign.schedule)) ctx.addIssue(problem);
  });
export type CampaignCreateInput = z.output<typeof campaignCreateSchema>;

/** A change: only the fields given; null clears an optional one. The kind never changes. */
export const campaignPatchSchema = z.strictObject({
  name: plainText(200).optional(),
  sender_account_id: z
    .uuid('must be a UUID')
    .transform((id) => id.toLowerCase())
    .optional(),
  steps: steps.optional(),
  audience: audienceSchema.nullable().optional(),
  schedule: scheduleSchema.nullable().optional(),
  send_window: sendWindowSchema.nullable().optional(),
  run_cap: runCap.nullable().optional(),
  quota_policy: quotaPolicy.optional(),
  catch_up: catchUp.optional(),
  tracking: trackingSchema.optional(),
  status: z.enum(['active', 'paused'], { error: 'must be active or paused (DELETE archives)' }).optional(),
});
export type CampaignPatchInput = z.output<typeof campaignPatchSchema>;

/**
 * What each kind allows of its steps: a broadcast or a birthday greeting is one message; only
 * sequence steps wait (`delay`, after the previous step or the enrollment).
 */
export function stepRuleProblems(
  kind: CampaignKind,
  stepList: readonly StepInput[],
): { code: 'custom'; path: (string | number)[]; message: string }[] {
  if (kind === 'sequence') return [];
  const problems: { code: 'custom'; path: (string | number)[]; message: string }[] = [];
  if (stepList.length !== 1)
    problems.push({ code: 'custom', path: ['steps'], message: `a ${kind} campaign has exactly one step` });
  stepList.forEach((step, i) => {
    if (step.delay !== undefined)
      problems.push({ code: 'custom', path: ['steps', i, 'delay'], message: 'only sequence steps wait' });
  });
  return problems;
}

/** Sequences send to their enrollments, each step at its delay: they have no schedule. */
export function scheduleRuleProblems(
  kind: CampaignKind,
  schedule: Schedule | null | undefined,
): { code: 'custom'; path: (string | number)[]; message: string }[] {
  if (kind !== 'sequence' || !schedule) return [];
  return [
    {
      code: 'custom',
      path: ['schedule'],
      message: 'a sequence has no schedule: it sends to its enrollments, each step at its delay',
    },
  ];
}
