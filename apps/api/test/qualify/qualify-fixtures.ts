import { randomUUID } from 'node:crypto';
import type { TestApi } from '../../../../test/support/api-app';

/**
 * Rows the finding half would write, inserted directly (the enrichment account goes through the
 * API): a directory account, a sourcing job with
 * its hand-off, a run recording a scoring model version, and its discovered candidates.
 */
export async function insertDirectoryAccount(api: TestApi, tenantId: string): Promise<string> {
  const id = randomUUID();
  await api.query(
    `INSERT INTO source_accounts (tenant_id, id, name, kind, credentials, time_zone)
     VALUES ($1, $2, 'Fake directory', 'http-directory', 'sealed', 'UTC')`,
    [tenantId, id],
  );
  return id;
}

/** An http-enrichment account created as a tenant would: through POST /v1/source-accounts. */
export async function createEnrichmentAccount(
  api: TestApi,
  tenantKey: string,
  config: Record<string, unknown>,
  quotaDaily: number | null = null,
): Promise<string> {
  const created = await api.request<{ id: string }>('POST', '/v1/source-accounts', {
    key: tenantKey,
    body: {
      name: 'Fake enrichment',
      kind: 'http-enrichment',
      config,
      ...(quotaDaily === null ? {} : { quotas: { daily: quotaDaily } }),
    },
  });
  if (created.status !== 201)
    throw new Error(`enrichment account: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id;
}

export async function insertRun(
  api: TestApi,
  tenantId: string,
  options: { accountId: string; modelId: string; version: number; handoff: Record<string, unknown> },
): Promise<{ jobId: string; runId: string }> {
  const jobId = randomUUID();
  const runId = randomUUID();
  await api.query(
    `INSERT INTO sourcing_jobs (tenant_id, id, name, source_account_id, "limit", scoring_model_id, handoff)
     VALUES ($1, $2, 'Trades', $3, 1000, $4, $5)`,
    [tenantId, jobId, options.accountId, options.modelId, JSON.stringify(options.handoff)],
  );
  await api.query(
    `INSERT INTO sourcing_runs (tenant_id, id, job_id, trigger, status, scoring_model_id, scoring_model_version)
     VALUES ($1, $2, $3, 'manual', 'running', $4, $5)`,
    [tenantId, runId, jobId, options.modelId, options.version],
  );
  return { jobId, runId };
}

export interface CandidateInput {
  name: string;
  website?: string;
  email?: string;
}

export async function insertCandidates(
  api: TestApi,
  tenantId: string,
  run: { jobId: string; runId: string; accountId: string },
  candidates: CandidateInput[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const c of candidates) {
    const id = randomUUID();
    const domain = c.website ? new URL(c.website).hostname : null;
    await api.query(
      `INSERT INTO candidates (tenant_id, id, run_id, job_id, source_account_id, source_key, name, name_normalised,
         email, email_normalised, website, website_domain, category, raw_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, lower($7), $8, lower($8), $9, $10, 'plumber', 'h')`,
      [
        tenantId,
        id,
        run.runId,
        run.jobId,
        run.accountId,
        `key-${id}`,
        c.name,
        c.email ?? null,
        c.website ?? null,
        domain,
      ],
    );
    ids.push(id);
  }
  return ids;
}
