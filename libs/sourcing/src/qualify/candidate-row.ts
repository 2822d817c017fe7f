import type { Tier } from './scoring/scoring-rules';

export const CANDIDATE_STAGES = [
  'discovered',
  'duplicate',
  'assessed',
  'enriched',
  'scored',
  'handed_off',
  'rejected',
] as const;
export type CandidateStage = (typeof CANDIDATE_STAGES)[number];

/** The candidate columns qualifying reads. */
export interface CandidateRow {
  tenant_id: string;
  id: string;
  run_id: string;
  job_id: string;
  source_account_id: string;
  stage: CandidateStage;
  held: boolean;
  name: string | null;
  email: string | null;
  email_normalised: string | null;
  phone: string | null;
  website: string | null;
  website_domain: string | null;
  profile_url: string | null;
  external_id: string | null;
  category: string | null;
  address: unknown;
  facts: Record<string, unknown>;
  score: number | null;
  tier: Tier | null;
  contact_id: string | null;
  enrollment_id: string | null;
}

export const CANDIDATE_COLUMNS = `tenant_id, id, run_id, job_id, source_account_id, stage, held, name, email,
  email_normalised, phone, website, website_domain, profile_url, external_id, category, address, facts,
  score, tier, contact_id, enrollment_id`;

/** What scoring rules read: the connector's fields, then everything learned (facts). */
export function scoringSubject(c: CandidateRow): Record<string, unknown> {
  return {
    ...c.facts,
    name: c.name,
    email: c.email,
    phone: c.phone,
    website: c.website,
    website_domain: c.website_domain,
    profile_url: c.profile_url,
    external_id: c.external_id,
    category: c.category,
    address: c.address,
  };
}
