import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { CandidateStage } from '../runs/run-record';

export interface CandidateRecord {
  id: string;
  runId: string;
  jobId: string;
  sourceAccountId: string;
  sourceKey: string;
  stage: CandidateStage;
  held: boolean;
  name: string | null;
  email: string | null;
  phone: string | null;
  website: string | null;
  websiteDomain: string | null;
  profileUrl: string | null;
  externalId: string | null;
  category: string | null;
  address: Record<string, unknown> | null;
  facts: Record<string, unknown>;
  rawHash: string;
  duplicateOf: Record<string, unknown> | null;
  score: number | null;
  tier: string | null;
  scoringModelVersion: number | null;
  explain: unknown;
  reason: string | null;
  contactId: string | null;
  enrollmentId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  id: string;
  run_id: string;
  job_id: string;
  source_account_id: string;
  source_key: string;
  stage: CandidateStage;
  held: boolean;
  name: string | null;
  email: string | null;
  phone: string | null;
  website: string | null;
  website_domain: string | null;
  profile_url: string | null;
  external_id: string | null;
  category: string | null;
  address: Record<string, unknown> | null;
  facts: Record<string, unknown>;
  raw_hash: string;
  duplicate_of: Record<string, unknown> | null;
  score: number | null;
  tier: string | null;
  scoring_model_version: number | null;
  explain: unknown;
  reason: string | null;
  contact_id: string | null;
  enrollment_id: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A run's candidates in keyset pages (id order: uuidv7, so the order they were found). */
@Injectable()
export class CandidateList {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async page(
    tenantId: string,
    runId: string,
    filter: { stage?: CandidateStage | undefined; tier?: string | undefined },
    after: { createdAt: Date; id: string } | null,
    limit: number,
  ): Promise<CandidateRecord[]> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM candidates
        WHERE tenant_id = $1 AND run_id = $2
          AND ($3::text IS NULL OR stage = $3) AND ($4::text IS NULL OR tier = $4)
          AND ($5::timestamptz IS NULL OR (created_at, id) > ($5::timestamptz, $6::uuid))
        ORDER BY created_at, id LIMIT $7`,
      [
        tenantId,
        runId,
        filter.stage ?? null,
        filter.tier ?? null,
        after?.createdAt.toISOString() ?? null,
        after?.id ?? null,
        limit,
      ],
    );
    return rows.map((r) => ({
      id: r.id,
      runId: r.run_id,
      jobId: r.job_id,
      sourceAccountId: r.source_account_id,
      sourceKey: r.source_key,
      stage: r.stage,
      held: r.held,
      name: r.name,
      email: r.email,
      phone: r.phone,
      website: r.website,
      websiteDomain: r.website_domain,
      profileUrl: r.profile_url,
      externalId: r.external_id,
      category: r.category,
      address: r.address,
      facts: r.facts,
      rawHash: r.raw_hash,
      duplicateOf: r.duplicate_of,
      score: r.score,
      tier: r.tier,
      scoringModelVersion: r.scoring_model_version,
      explain: r.explain,
      reason: r.reason,
      contactId: r.contact_id,
      enrollmentId: r.enrollment_id,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }
}
