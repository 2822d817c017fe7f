import type { Campaign, CampaignsCreateData, CampaignsUpdateData } from '@herald/api-client';

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

/** The campaign form's state: strings as typed, turned into the api's body on save. */
export interface Draft {
  name: string;
  kind: 'broadcast' | 'birthday' | 'sequence';
  sender_account_id: string;
  steps: { subject: string; body: string; delayHours: string; html: boolean }[];
  tags: string;
  q: string;
  scheduleOn: boolean;
  scheduleAt: string;
  scheduleDays: Day[];
  windowOn: boolean;
  windowStart: string;
  windowEnd: string;
  windowDays: Day[];
  timeZone: string;
  runCap: string;
  quota_policy: 'defer' | 'skip';
  catch_up: 'fire_once' | 'skip';
}

export function emptyDraft(senderId = ''): Draft {
  return {
    name: '',
    kind: 'broadcast',
    sender_account_id: senderId,
    steps: [{ subject: '', body: '', delayHours: '', html: false }],
    tags: '',
    q: '',
    scheduleOn: false,
    scheduleAt: '09:00',
    scheduleDays: [],
    windowOn: false,
    windowStart: '09:00',
    windowEnd: '18:00',
    windowDays: ['mon', 'tue', 'wed', 'thu', 'fri'],
    timeZone: '',
    runCap: '',
    quota_policy: 'defer',
    catch_up: 'fire_once',
  };
}

export function draftOf(c: Campaign): Draft {
  return {
    name: c.name,
    kind: c.kind === 'sourcing' ? 'broadcast' : c.kind,
    sender_account_id: c.sender_account_id,
    steps: c.steps.map((s) => ({
      subject: s.subject ?? '',
      body: s.body,
      delayHours: s.delay === null ? '' : String(s.delay / 3600),
      html: s.html,
    })),
    tags: (c.audience.tags ?? []).join(', '),
    q: c.audience.q ?? '',
    scheduleOn: c.schedule !== null,
    scheduleAt: c.schedule?.at ?? '09:00',
    scheduleDays: c.schedule?.days ?? [],
    windowOn: c.send_window !== null,
    windowStart: c.send_window?.start ?? '09:00',
    windowEnd: c.send_window?.end ?? '18:00',
    windowDays: c.send_window?.days ?? [],
    timeZone: c.schedule?.time_zone ?? c.send_window?.time_zone ?? '',
    runCap: c.run_cap === null ? '' : String(c.run_cap),
    quota_policy: c.quota_policy,
    catch_up: c.catch_up,
  };
}

type Body = CampaignsUpdateData['body'];

/** The fields create and update share; `clear` sends null for a schedule or window switched off. */
function common(d: Draft, clear: boolean): Body {
  const tags = d.tags
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const zone = d.timeZone.trim() ? { time_zone: d.timeZone.trim() } : {};
  const body: Body = {
    name: d.name.trim(),
    sender_account_id: d.sender_account_id,
    steps: d.steps.map((s, i) => ({
      ...(s.subject.trim() ? { subject: s.subject } : {}),
      body: s.body,
      html: s.html,
      ...(d.kind === 'sequence' && i > 0 && s.delayHours.trim()
        ? { delay: Math.round(Number(s.delayHours) * 3600) }
        : {}),
    })),
    audience: { ...(tags.length ? { tags } : {}), ...(d.q.trim() ? { q: d.q.trim() } : {}) },
    quota_policy: d.quota_policy,
    catch_up: d.catch_up,
  };
  if (d.scheduleOn)
    body.schedule = { at: d.scheduleAt, ...(d.scheduleDays.length ? { days: d.scheduleDays } : {}), ...zone };
  else if (clear) body.schedule = null;
  if (d.windowOn)
    body.send_window = {
      start: d.windowStart,
      end: d.windowEnd,
      ...(d.windowDays.length ? { days: d.windowDays } : {}),
      ...zone,
    };
  else if (clear) body.send_window = null;
  if (d.runCap.trim()) body.run_cap = Number(d.runCap);
  else if (clear) body.run_cap = null;
  return body;
}

export function createBody(d: Draft): CampaignsCreateData['body'] {
  const body = common(d, false);
  return {
    ...body,
    name: body.name ?? '',
    kind: d.kind,
    sender_account_id: d.sender_account_id,
    steps: body.steps ?? [],
    audience: body.audience ?? {},
    schedule: body.schedule ?? undefined,
    send_window: body.send_window ?? undefined,
    run_cap: body.run_cap ?? undefined,
  };
}

export function updateBody(d: Draft): Body {
  return common(d, true);
}
