import { birthdayKeys, buildContactPageQuery, type ContactFilter } from '@herald/contacts';
import type { KeysetPosition } from '@herald/persistence';

/** The audience as stored on a campaign (the contact list's filters, in wire form). */
export interface ContactFilterJson {
  status?: string[];
  tags?: string[];
  created_after?: string;
  created_before?: string;
  q?: string;
}

/** What a run of a campaign reaches, and the key each contact's delivery gets. */
export interface AudienceSpec {
  tenantId: string;
  kind: string;
  audience: ContactFilterJson;
  campaignId: string;
  runId: string;
  /** The tenant's zone: a contact without one of its own has its birthday in this zone. */
  tenantZone: string;
  /** The instant the run selects for: "today" of a birthday run is each contact's local day at it. */
  at: Date;
}

/**
 * One keyset page of a run's audience as SQL: `raw` is the page of contacts in id order (its
 * size decides whether another page follows), `select` the contacts of it the run reaches, with
 * their delivery keys. Broadcasts reach every active contact of the filter, once per run
 * (`bc:<run>:<contact>`). Birthday runs reach those whose birthday it is in their own zone (or
 * the tenant's) at the run's instant — 29 February birthdays on 28 February in common years —
 * once per campaign and local year (`bd:<campaign>:<contact>:<year>`), whatever happens.
 */
export function audiencePage(
  spec: AudienceSpec,
  after: KeysetPosition | null,
  limit: number,
): { raw: string; select: string; params: unknown[] } {
  if (spec.kind !== 'birthday') {
    const page = buildContactPageQuery(spec.tenantId, audienceFilter(spec.audience), after, limit, 'id');
    const run = page.params.length + 1;
    return {
      raw: page.sql,
      select: `SELECT raw.id, 'bc:' || $${run}::text || ':' || raw.id AS delivery_key FROM raw`,
      params: [...page.params, spec.runId],
    };
  }
  const filter: ContactFilter = {
    ...audienceFilter(spec.audience),
    birthMonthDays: birthdayCandidates(spec.at),
  };
  const page = buildContactPageQuery(spec.tenantId, filter, after, limit, 'id, birth_md, time_zone');
  const at = page.params.length + 1;
  return {
    raw: page.sql,
    select: `SELECT raw.id, 'bd:' || $${at + 2}::text || ':' || raw.id || ':' || l.y AS delivery_key
               FROM raw
               CROSS JOIN LATERAL (SELECT ($${at}::timestamptz AT TIME ZONE coalesce(raw.time_zone, $${at + 1}::text))::date AS d) x
               CROSS JOIN LATERAL (SELECT extract(year FROM x.d)::int AS y, extract(month FROM x.d)::int AS m,
                                          extract(day FROM x.d)::int AS dd) l
              WHERE raw.birth_md = l.m * 100 + l.dd
                 OR (raw.birth_md = 229 AND l.m = 2 AND l.dd = 28
                     AND NOT ((l.y % 4 = 0 AND l.y % 100 <> 0) OR l.y % 400 = 0))`,
    params: [...page.params, spec.at.toISOString(), spec.tenantZone, spec.campaignId],
  };
}

/**
 * The month-days (month * 100 + day) that are "today" somewhere on Earth at `at`: local
 * offsets run from UTC−12 to UTC+14, so at most three dates. The index narrows a run to these;
 * each contact's own zone then decides.
 */
export function birthdayCandidates(at: Date): number[] {
  const keys = new Set<number>();
  for (const offsetHours of [-12, 0, 14]) {
    for (const key of birthdayKeys('today', 'UTC', new Date(at.getTime() + offsetHours * 3_600_000)) ?? [])
      keys.add(key);
  }
  return [...keys].sort((a, b) => a - b);
}

export function audienceFilter(audience: ContactFilterJson): ContactFilter {
  return {
    statuses: ['active'],
    ...(audience.tags?.length ? { tags: audience.tags } : {}),
    ...(audience.created_after ? { createdAfter: new Date(audience.created_after) } : {}),
    ...(audience.created_before ? { createdBefore: new Date(audience.created_before) } : {}),
    ...(audience.q ? { q: audience.q } : {}),
  };
}
