import type { EntityManager } from 'typeorm';
import type { FoundCandidate } from '../connectors/connector';
import { normaliseDomain, normaliseEmail, normaliseName, normaliseProfileUrl } from './normalise';

/** The rules, in the order they are tried: the first that matches names the original. */
export const DEDUPE_RULES = ['email', 'external_id', 'profile_url', 'domain_name'] as const;
export type DedupeRule = (typeof DEDUPE_RULES)[number];

export interface DedupeKeys {
  email?: string | undefined;
  /** Meaningful only within one source account: `<account id>:<external id>`. */
  externalId?: string | undefined;
  profileUrl?: string | undefined;
  domain?: string | undefined;
  name?: string | undefined;
}

/** What a duplicate duplicates, and by which rule (stored in `candidates.duplicate_of`). */
export type DuplicateOf =
  { rule: DedupeRule; contact_id: string } | { rule: DedupeRule; candidate_id: string };

export function dedupeKeys(found: FoundCandidate, sourceAccountId?: string): DedupeKeys {
  return {
    email: normaliseEmail(found.email),
    externalId:
      found.externalId && sourceAccountId ? `${sourceAccountId}:${found.externalId}` : found.externalId,
    profileUrl: normaliseProfileUrl(found.profileUrl),
    domain: normaliseDomain(found.website),
    name: normaliseName(found.name),
  };
}

/** The keys of a rule: undefined when the candidate has nothing for it. */
function ruleKey(rule: DedupeRule, keys: DedupeKeys): string | undefined {
  switch (rule) {
    case 'email':
      return keys.email;
    case 'external_id':
      return keys.externalId;
    case 'profile_url':
      return keys.profileUrl;
    case 'domain_name':
      // Both, or nothing: a shared domain alone (a mall, a platform) is not the same business.
      return keys.domain && keys.name ? `${keys.domain}\u0000${keys.name}` : undefined;
  }
}

type Ref = { contact_id: string } | { candidate_id: string };

/**
 * Known leads by rule key: contacts (by email only) and earlier candidates. The first entry
 * added for a key is the original, so contacts go in before candidates, and a batch's own
 * candidates after what the database holds, in the order found.
 */
export class DedupeIndex {
  private readonly byRule = new Map<DedupeRule, Map<string, Ref>>(DEDUPE_RULES.map((r) => [r, new Map()]));

  add(keys: DedupeKeys, ref: Ref): void {
    for (const rule of DEDUPE_RULES) {
      const key = ruleKey(rule, keys);
      const known = this.byRule.get(rule)!;
      if (key !== undefined && !known.has(key)) known.set(key, ref);
    }
  }

  find(keys: DedupeKeys): DuplicateOf | undefined {
    for (const rule of DEDUPE_RULES) {
      const key = ruleKey(rule, keys);
      const ref = key === undefined ? undefined : this.byRule.get(rule)!.get(key);
      if (ref) return { rule, ...ref };
    }
    return undefined;
  }
}

/**
 * Which of a batch's candidates duplicate a contact, an earlier candidate of the tenant (any
 * run, any stage but duplicate; failed visits excluded), or one earlier in the same batch.
 * One query per source of keys; every lookup is on an index.
 */
export async function matchBatch(
  manager: Pick<EntityManager, 'query'>,
  tenantId: string,
  sourceAccountId: string,
  items: readonly { id: string; keys: DedupeKeys; found: FoundCandidate }[],
): Promise<Map<string, DuplicateOf>> {
  const emails = unique(items.map((i) => i.keys.email));
  const externals = unique(items.map((i) => i.found.externalId));
  const profiles = unique(items.map((i) => i.keys.profileUrl));
  const pairs = items.filter((i) => i.keys.domain && i.keys.name);
  const index = new DedupeIndex();
  if (emails.length > 0) {
    const contacts = await manager.query<{ id: string; key: string }[]>(
      `SELECT id, sourcing_email_key(email) AS key FROM contacts
        WHERE tenant_id = $1 AND email IS NOT NULL AND sourcing_email_key(email) = ANY ($2::text[])
        ORDER BY created_at, id`,
      [tenantId, emails],
    );
    for (const c of contacts) index.add({ email: c.key }, { contact_id: c.id });
  }
  const earlier = await manager.query<
    {
      id: string;
      email_normalised: string | null;
      source_account_id: string;
      external_id: string | null;
      profile_url: string | null;
      website_domain: string | null;
      name_normalised: string | null;
    }[]
  >(
    `SELECT id, email_normalised, source_account_id, external_id, profile_url, website_domain, name_normalised
       FROM candidates c
      WHERE c.tenant_id = $1 AND c.stage <> 'duplicate' AND NOT (c.facts ? 'source_failure')
        AND (c.email_normalised = ANY ($2::text[])
             OR (c.source_account_id = $3 AND c.external_id = ANY ($4::text[]))
             OR c.profile_url = ANY ($5::text[])
             OR (c.website_domain, c.name_normalised) IN (SELECT * FROM unnest($6::text[], $7::text[])))
      ORDER BY c.created_at, c.id`,
    [
      tenantId,
      emails,
      sourceAccountId,
      externals,
      profiles,
      pairs.map((p) => p.keys.domain),
      pairs.map((p) => p.keys.name),
    ],
  );
  for (const c of earlier)
    index.add(
      {
        email: c.email_normalised ?? undefined,
        externalId: c.external_id ? `${c.source_account_id}:${c.external_id}` : undefined,
        profileUrl: c.profile_url ?? undefined,
        domain: c.website_domain ?? undefined,
        name: c.name_normalised ?? undefined,
      },
      { candidate_id: c.id },
    );
  const matches = new Map<string, DuplicateOf>();
  for (const item of items) {
    const keys = {
      ...item.keys,
      externalId: item.found.externalId ? `${sourceAccountId}:${item.found.externalId}` : undefined,
    };
    const match = index.find(keys);
    if (match) matches.set(item.id, match);
    else index.add(keys, { candidate_id: item.id });
  }
  return matches;
}

function unique(values: readonly (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined))];
}
