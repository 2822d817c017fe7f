import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows, type KeysetPosition } from '@herald/persistence';
import type { DataSource } from 'typeorm';
import { RunLifecycle } from './run-lifecycle';
import type { RunRecord, RunStatus } from './run-record';

export interface RunListFilter {
  status?: RunStatus;
  campaignId?: string;
}

interface RunKey {
  id: string;
  created_at: Date;
}

/**
 * A tenant's runs, newest first, in keyset pages (for `herald runs list` and the console's
 * overview). A page is at most 100 runs, each read as GET /v1/runs/{id} reads it — its counts,
 * rate and quota-aware ETA — so a list never says something the run's own page would not.
 */
@Injectable()
export class RunList {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly runs: RunLifecycle,
  ) {}

  /** `limit + 1` rows when there is a next page (see keysetPage). */
  async page(
    tenantId: string,
    filter: RunListFilter,
    before: KeysetPosition | null,
    limit: number,
  ): Promise<RunRecord[]> {
    const keys = queryRows<RunKey>(
      await this.dataSource.query(
        `SELECT id, created_at FROM campaign_runs
          WHERE tenant_id = $1
            AND ($2::text IS NULL OR status = $2)
            AND ($3::uuid IS NULL OR campaign_id = $3)
            AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))
          ORDER BY created_at DESC, id DESC
          LIMIT $6`,
        [
          tenantId,
          filter.status ?? null,
          filter.campaignId ?? null,
          before?.createdAt ?? null,
          before?.id ?? null,
          limit,
        ],
      ),
    );
    const records = await Promise.all(keys.map((k) => this.runs.find(tenantId, k.id)));
    // A run is never deleted, so each key finds its run; filter only to satisfy the types.
    return records.flatMap((r) => (r ? [r] : []));
  }
}
