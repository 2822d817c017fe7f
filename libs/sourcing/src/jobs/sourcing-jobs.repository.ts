import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Schedule } from '@herald/campaigns';
import {
  findTenantRow,
  givenColumns,
  queryRows,
  tenantRowsAfter,
  updateTenantRow,
  type KeysetPosition,
  type Queryable,
} from '@herald/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import { SourceAccountsRepository } from '../accounts/source-accounts.repository';
import { connectorFor, isSearchKind } from '../connectors/connectors';
import { csvProblem } from '../connectors/csv.connector';
import { SourcingValidationError } from '../errors';
import type { Handoff, SourcingJobCreateInput, SourcingJobPatchInput } from './job-fields';

export interface SourcingJobRecord {
  tenantId: string;
  id: string;
  name: string;
  sourceAccountId: string;
  criteria: Record<string, unknown>;
  limit: number;
  schedule: Schedule | null;
  scoringModelId: string;
  handoff: Handoff;
  status: 'active' | 'archived';
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  tenant_id: string;
  id: string;
  name: string;
  source_account_id: string;
  criteria: Record<string, unknown>;
  limit: number;
  schedule: Schedule | null;
  scoring_model_id: string;
  handoff: Handoff;
  status: 'active' | 'archived';
  created_at: Date;
  updated_at: Date;
}

type Db = Queryable;

/**
 * Sourcing jobs: what to search (an account and its connector's criteria), how many candidates a
 * run may find, when it runs by itself, how candidates are scored and handed off. Everything a
 * job names is checked when it is written: the account (a searching kind, not disabled), the
 * criteria against the account's connector, the scoring model, and each `enroll` campaign (a
 * sequence of the tenant).
 */
@Injectable()
export class SourcingJobsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly accounts: SourceAccountsRepository,
  ) {}

  async create(
    db: Db,
    tenantId: string,
    id: string,
    input: SourcingJobCreateInput,
  ): Promise<SourcingJobRecord> {
    await this.check(db, tenantId, input.source_account_id, input);
    const rows = await db.query<Row[]>(
      `INSERT INTO sourcing_jobs (tenant_id, id, name, source_account_id, criteria, "limit", schedule, scoring_model_id, handoff)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [
        tenantId,
        id,
        input.name,
        input.source_account_id,
        JSON.stringify(input.criteria),
        input.limit,
        input.schedule ? JSON.stringify(input.schedule) : null,
        input.scoring_model_id,
        JSON.stringify(input.handoff),
      ],
    );
    return toRecord(rows[0]!);
  }

  async update(
    db: Db,
    tenantId: string,
    id: string,
    patch: SourcingJobPatchInput,
  ): Promise<SourcingJobRecord | undefined> {
    const current = await this.find(tenantId, id, db, true);
    if (!current) return undefined;
    await this.check(db, tenantId, current.sourceAccountId, {
      criteria: patch.criteria,
      scoring_model_id: patch.scoring_model_id,
      handoff: patch.handoff,
    });
    const columns = givenColumns({
      name: patch.name,
      criteria: patch.criteria === undefined ? undefined : JSON.stringify(patch.criteria),
      '"limit"': patch.limit,
      schedule: patch.schedule ? JSON.stringify(patch.schedule) : patch.schedule,
      scoring_model_id: patch.scoring_model_id,
      handoff: patch.handoff === undefined ? undefined : JSON.stringify(patch.handoff),
    });
    if (columns.length === 0) return current;
    const row = await updateTenantRow<Row>(db, 'sourcing_jobs', tenantId, id, columns);
    return row ? toRecord(row) : undefined;
  }

  /** Runs `work` in a transaction of its own (for callers without one). */
  dataSourceTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Archived jobs keep their runs and candidates but start no run and have no schedule. */
  async archive(tenantId: string, id: string): Promise<SourcingJobRecord | undefined> {
    const rows = queryRows<Row>(
      await this.dataSource.query(
        `UPDATE sourcing_jobs SET status = 'archived', updated_at = CASE WHEN status = 'archived' THEN updated_at ELSE now() END
          WHERE tenant_id = $1 AND id = $2 RETURNING *`,
        [tenantId, id],
      ),
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async find(
    tenantId: string,
    id: string,
    db: Db = this.dataSource,
    forUpdate = false,
  ): Promise<SourcingJobRecord | undefined> {
    const row = await findTenantRow<Row>(db, 'sourcing_jobs', tenantId, id, forUpdate);
    return row ? toRecord(row) : undefined;
  }

  async list(
    tenantId: string,
    after: KeysetPosition | null,
    limit: number,
    status?: 'active' | 'archived',
  ): Promise<SourcingJobRecord[]> {
    const rows = await tenantRowsAfter<Row>(this.dataSource, 'sourcing_jobs', tenantId, after, limit, {
      column: 'status',
      value: status,
    });
    return rows.map(toRecord);
  }

  private async check(
    db: Db,
    tenantId: string,
    accountId: string,
    input: {
      criteria?: Record<string, unknown> | undefined;
      scoring_model_id?: string | undefined;
      handoff?: Handoff | undefined;
    },
  ): Promise<void> {
    const errors: { field: string; message: string }[] = [];
    const account = await this.accounts.find(tenantId, accountId, db);
    if (!account)
      errors.push({ field: 'source_account_id', message: 'names no source account of this tenant' });
    else if (!isSearchKind(account.kind))
      errors.push({
        field: 'source_account_id',
        message: `is an ${account.kind} account, which cannot search`,
      });
    else if (account.status === 'disabled')
      errors.push({ field: 'source_account_id', message: 'names a disabled source account' });
    else if (input.criteria !== undefined) {
      const parsed = connectorFor(account.kind).criteria.safeParse(input.criteria);
      if (!parsed.success)
        for (const issue of parsed.error.issues)
          errors.push({ field: ['criteria', ...issue.path.map(String)].join('.'), message: issue.message });
      else if (account.kind === 'csv') {
        const delimiter = typeof account.settings.delimiter === 'string' ? account.settings.delimiter : ',';
        const problem = csvProblem(String(input.criteria.csv), delimiter);
        if (problem) errors.push({ field: 'criteria.csv', message: problem });
      }
    }
    if (input.scoring_model_id !== undefined) {
      const [model] = await db.query<{ id: string }[]>(
        `SELECT id FROM scoring_models WHERE tenant_id = $1 AND id = $2`,
        [tenantId, input.scoring_model_id],
      );
      if (!model)
        errors.push({ field: 'scoring_model_id', message: 'names no scoring model of this tenant' });
    }
    for (const [tier, rule] of Object.entries(input.handoff ?? {})) {
      if (rule?.action !== 'enroll' || !rule.campaign_id) continue;
      const [campaign] = await db.query<{ kind: string; status: string }[]>(
        `SELECT kind, status FROM campaigns WHERE tenant_id = $1 AND id = $2`,
        [tenantId, rule.campaign_id],
      );
      const field = `handoff.${tier}.campaign_id`;
      if (!campaign) errors.push({ field, message: 'names no campaign of this tenant' });
      else if (campaign.kind !== 'sequence')
        errors.push({ field, message: `names a ${campaign.kind} campaign; enrolling needs a sequence` });
      else if (campaign.status === 'archived') errors.push({ field, message: 'names an archived campaign' });
    }
    if (errors.length > 0) throw new SourcingValidationError(errors);
  }
}

function toRecord(row: Row): SourcingJobRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    name: row.name,
    sourceAccountId: row.source_account_id,
    criteria: row.criteria,
    limit: row.limit,
    schedule: row.schedule,
    scoringModelId: row.scoring_model_id,
    handoff: row.handoff,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
