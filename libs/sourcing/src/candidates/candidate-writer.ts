import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { uuidv7 } from '@herald/contacts';
import { OutboxRelay } from '@herald/deliveries';
import { JOBS } from '@herald/queues';
import type { EntityManager } from 'typeorm';
import type { FoundCandidate } from '../connectors/connector';
import { dedupeKeys, matchBatch, type DedupeKeys, type DuplicateOf } from '../dedupe/dedupe';
import { sourcingCandidates } from '../sourcing-metrics';

/** Candidate ids per `sourcing.qualify` job (the contract says at most 100). */
export const QUALIFY_BATCH = 100;

/** The BullMQ job id of the `sourcing.qualify` job for these candidates (as the outbox relays it). */
export function qualifyJobId(tenantId: string, runId: string, candidateIds: string[]): string {
  return JOBS['sourcing.qualify'].jobId({ tenant_id: tenantId, run_id: runId, candidate_ids: candidateIds });
}

export interface WriteResult {
  /** New candidates to qualify, in the order found. */
  discovered: string[];
  duplicates: number;
  /** Found but not written: already in this run (a repeated page) or past the run's limit. */
  skipped: number;
  /** The qualify jobs written to the outbox (dispatch them after commit). */
  qualifyBatches: string[][];
}

interface RunScope {
  tenantId: string;
  runId: string;
  jobId: string;
  sourceAccountId: string;
  /** How many more discovered candidates the run may take. */
  room: number;
}

/**
 * Writes a step's candidates in the caller's transaction (serialised per tenant, so runs at
 * once dedupe against each other): each one already in the run (a page
 * repeated after a crash) is skipped, each other is a `duplicate` naming what it duplicates and
 * by which rule, or `discovered` — at most `room` of those; the discovered ones are handed to
 * qualifying as `sourcing.qualify` jobs through the outbox, in the same transaction.
 */
@Injectable()
export class CandidateWriter {
  constructor(private readonly outbox: OutboxRelay) {}

  async write(
    manager: EntityManager,
    scope: RunScope,
    found: readonly FoundCandidate[],
  ): Promise<WriteResult> {
    // One writer per tenant at a time, to the end of the caller's transaction: two runs finding
    // the same business at once would each miss the other's uncommitted candidate and both keep
    // it. The second waits, then dedupes against what the first committed.
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 12))`, [
      `sourcing-dedupe:${scope.tenantId}`,
    ]);
    const present = new Set(
      (
        await manager.query<{ source_key: string }[]>(
          `SELECT source_key FROM candidates WHERE tenant_id = $1 AND run_id = $2 AND source_key = ANY ($3::text[])`,
          [scope.tenantId, scope.runId, found.map((f) => f.sourceKey)],
        )
      ).map((r) => r.source_key),
    );
    const seen = new Set<string>();
    const fresh = found.filter((f) => {
      if (present.has(f.sourceKey) || seen.has(f.sourceKey)) return false;
      seen.add(f.sourceKey);
      return true;
    });
    const keyed = fresh.map((f) => ({ found: f, keys: dedupeKeys(f), id: uuidv7() }));
    const matches = await matchBatch(
      manager,
      scope.tenantId,
      scope.sourceAccountId,
      keyed.filter((k) => !k.found.failure),
    );
    const rows: Row[] = [];
    const discovered: string[] = [];
    let duplicates = 0;
    let rejected = 0;
    for (const k of keyed) {
      if (k.found.failure) {
        rows.push(row(scope, k, 'rejected', null, k.found.failure));
        rejected += 1;
        continue;
      }
      const duplicateOf = matches.get(k.id);
      if (duplicateOf) {
        rows.push(row(scope, k, 'duplicate', duplicateOf, null));
        duplicates += 1;
        continue;
      }
      if (discovered.length >= scope.room) continue;
      rows.push(row(scope, k, 'discovered', null, null));
      discovered.push(k.id);
    }
    // Batched before the insert: each discovered candidate records the job that carries it, so
    // the beat can tell a candidate whose job was lost or failed for good (lost-qualify-jobs).
    const qualifyBatches: string[][] = [];
    for (let i = 0; i < discovered.length; i += QUALIFY_BATCH)
      qualifyBatches.push(discovered.slice(i, i + QUALIFY_BATCH));
    const jobOf = new Map<string, string>();
    for (const batch of qualifyBatches) {
      const jobId = qualifyJobId(scope.tenantId, scope.runId, batch);
      for (const id of batch) jobOf.set(id, jobId);
    }
    for (const r of rows) r.qualify_job = jobOf.get(r.id) ?? null;
    if (rows.length > 0) {
      await manager.query(
        `INSERT INTO candidates (tenant_id, id, run_id, job_id, source_account_id, source_key, stage, name,
                                 name_normalised, email, email_normalised, phone, website, website_domain,
                                 profile_url, external_id, category, address, facts, raw_hash, duplicate_of, reason,
                                 qualify_job)
         SELECT $1, r.id, $2, $3, $4, r.source_key, r.stage, r.name, r.name_normalised, r.email, r.email_normalised,
                r.phone, r.website, r.website_domain, r.profile_url, r.external_id, r.category, r.address, r.facts,
                r.raw_hash, r.duplicate_of, r.reason, r.qualify_job
           FROM jsonb_to_recordset($5::jsonb) AS r (id uuid, source_key text, stage text, name text, name_normalised text,
                email text, email_normalised text, phone text, website text, website_domain text, profile_url text,
                external_id text, category text, address jsonb, facts jsonb, raw_hash text, duplicate_of jsonb, reason text,
                qualify_job text)
         ON CONFLICT (tenant_id, run_id, source_key) DO NOTHING`,
        [scope.tenantId, scope.runId, scope.jobId, scope.sourceAccountId, JSON.stringify(rows)],
      );
    }
    for (const batch of qualifyBatches)
      await this.outbox.write(manager, scope.tenantId, 'sourcing.qualify', {
        tenant_id: scope.tenantId,
        run_id: scope.runId,
        candidate_ids: batch,
      });
    if (discovered.length > 0) sourcingCandidates().inc({ stage: 'discovered', tier: '' }, discovered.length);
    if (duplicates > 0) sourcingCandidates().inc({ stage: 'duplicate', tier: '' }, duplicates);
    if (rejected > 0) sourcingCandidates().inc({ stage: 'rejected', tier: '' }, rejected);
    return { discovered, duplicates, skipped: found.length - rows.length, qualifyBatches };
  }

  /** After commit: puts the step's qualify jobs on the queue (the outbox sweep covers a failure). */
  async dispatch(tenantId: string, runId: string, batches: readonly string[][]): Promise<void> {
    for (const candidateIds of batches)
      await this.outbox.dispatchJob('sourcing.qualify', {
        tenant_id: tenantId,
        run_id: runId,
        candidate_ids: candidateIds,
      });
  }
}

interface Row {
  id: string;
  source_key: string;
  stage: 'discovered' | 'duplicate' | 'rejected';
  name: string | null;
  name_normalised: string | null;
  email: string | null;
  email_normalised: string | null;
  phone: string | null;
  website: string | null;
  website_domain: string | null;
  profile_url: string | null;
  external_id: string | null;
  category: string | null;
  address: Record<string, unknown> | null;
  facts: Record<string, unknown>;
  raw_hash: string;
  duplicate_of: DuplicateOf | null;
  reason: string | null;
  /** The `sourcing.qualify` job carrying a discovered candidate. */
  qualify_job?: string | null;
}

function row(
  scope: RunScope,
  k: { found: FoundCandidate; keys: DedupeKeys; id: string },
  stage: Row['stage'],
  duplicateOf: DuplicateOf | null,
  reason: string | null,
): Row {
  const f = k.found;
  return {
    id: k.id,
    source_key: f.sourceKey,
    stage,
    name: f.name ?? null,
    name_normalised: k.keys.name ?? null,
    email: f.email ?? null,
    email_normalised: k.keys.email ?? null,
    phone: f.phone ?? null,
    website: f.website ?? null,
    website_domain: k.keys.domain ?? null,
    profile_url: k.keys.profileUrl ?? null,
    external_id: f.externalId ?? null,
    category: f.category ?? null,
    address: f.address ?? null,
    facts: {
      ...f.facts,
      source: { account_id: scope.sourceAccountId, ...(f.profileUrl ? { profile_url: f.profileUrl } : {}) },
      ...(f.failure ? { source_failure: true } : {}),
    },
    raw_hash: createHash('sha256')
      .update(JSON.stringify(f.raw ?? null))
      .digest('hex'),
    duplicate_of: duplicateOf,
    reason,
  };
}
