import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { uuidv7 } from '@herald/contacts';
import { queryRows, type KeysetPosition } from '@herald/persistence';
import { HeraldMetrics } from '@herald/telemetry';
import type { DataSource, EntityManager } from 'typeorm';
import {
  scheduleRuleProblems,
  stepRuleProblems,
  type Audience,
  type CatchUpPolicy,
  type CampaignCreateInput,
  type CampaignKind,
  type CampaignPatchInput,
  type CampaignStatus,
  type QuotaPolicy,
  type Schedule,
  type SendWindow,
  type StepInput,
  type Tracking,
} from './campaign-fields';
import { CampaignValidationError, UnknownSenderAccountError } from './errors';
import type { CampaignStep } from './campaign-step';
import { cancelRuns, countCancelled } from './runs/cancel-runs';

export interface CampaignRecord {
  tenantId: string;
  id: string;
  name: string;
  kind: CampaignKind;
  senderAccountId: string;
  steps: CampaignStep[];
  audience: Audience;
  schedule: Schedule | null;
  sendWindow: SendWindow | null;
  runCap: number | null;
  quotaPolicy: QuotaPolicy;
  catchUp: CatchUpPolicy;
  tracking: Tracking;
  status: CampaignStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface CampaignFilter {
  kind?: CampaignKind;
  /** Only this status; when absent, archived campaigns are left out. */
  status?: CampaignStatus;
}

interface Row {
  tenant_id: string;
  id: string;
  name: string;
  kind: CampaignKind;
  sender_account_id: string;
  steps: CampaignStep[];
  audience: Audience;
  schedule: Schedule | null;
  send_window: SendWindow | null;
  run_cap: number | null;
  quota_policy: QuotaPolicy;
  catch_up: CatchUpPolicy;
  tracking: Tracking;
  status: CampaignStatus;
  created_at: Date;
  updated_at: Date;
}

type Queryable = Pick<EntityManager, 'query'>;

/**
 * Campaigns: what to send (steps with templates), to whom (an audience filter), through which
 * sender account, and with which limits. Every statement is scoped by tenant; the sender account
 * must be the tenant's own (the foreign key says so too).
 */
@Injectable()
export class CampaignsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: HeraldMetrics,
  ) {}

  async create(
    manager: EntityManager,
    tenantId: string,
    input: CampaignCreateInput,
  ): Promise<CampaignRecord> {
    await assertSenderAccount(manager, tenantId, input.sender_account_id);
    const rows = await manager.query<Row[]>(
      `INSERT INTO campaigns (tenant_id, id, name, kind, sender_account_id, steps, audience, schedule, send_window, run_cap, quota_policy, catch_up, tracking)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
      [
        tenantId,
        uuidv7(),
        input.name,
        input.kind,
        input.sender_account_id,
        JSON.stringify(toStoredSteps(input.steps)),
        JSON.stringify(input.audience ?? {}),
        input.schedule ? JSON.stringify(input.schedule) : null,
        input.send_window ? JSON.stringify(input.send_window) : null,
        input.run_cap ?? null,
        input.quota_policy ?? 'defer',
        input.catch_up ?? 'fire_once',
        JSON.stringify(input.tracking ?? { opens: false, clicks: false }),
      ],
    );
    return toRecord(rows[0]!);
  }

  async find(tenantId: string, id: string): Promise<CampaignRecord | undefined> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM campaigns WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** A keyset page in creation order; ask for one more than the page size to know if another follows. */
  async page(
    tenantId: string,
    filter: CampaignFilter,
    after: KeysetPosition | null,
    limit: number,
  ): Promise<CampaignRecord[]> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM campaigns
        WHERE tenant_id = $1
          AND ($2::text IS NULL OR kind = $2)
          AND (CASE WHEN $3::text IS NULL THEN status <> 'archived' ELSE status = $3 END)
          AND ($4::timestamptz IS NULL OR (created_at, id) > ($4::timestamptz, $5::uuid))
        ORDER BY created_at, id
        LIMIT $6`,
      [
        tenantId,
        filter.kind ?? null,
        filter.status ?? null,
        after?.createdAt.toISOString() ?? null,
        after?.id ?? null,
        limit,
      ],
    );
    return rows.map(toRecord);
  }

  /** Changes the fields given; undefined when the campaign is not the tenant's. */
  async patch(
    manager: EntityManager,
    tenantId: string,
    id: string,
    input: CampaignPatchInput,
  ): Promise<CampaignRecord | undefined> {
    const current = await manager.query<Row[]>(
      `SELECT * FROM campaigns WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenantId, id],
    );
    const row = current[0];
    if (!row) return undefined;
    if (input.steps) {
      const problems = stepRuleProblems(row.kind, input.steps);
      if (problems.length > 0)
        throw new CampaignValidationError(
          problems.map((p) => ({ field: p.path.join('.'), message: p.message })),
        );
    }
    const scheduleProblems = scheduleRuleProblems(row.kind, input.schedule);
    if (scheduleProblems.length > 0)
      throw new CampaignValidationError(
        scheduleProblems.map((p) => ({ field: p.path.join('.'), message: p.message })),
      );
    if (input.sender_account_id) await assertSenderAccount(manager, tenantId, input.sender_account_id);
    const sets: string[] = [];
    const params: unknown[] = [tenantId, id];
    const set = (column: string, value: unknown) => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    const json = (value: object | null | undefined) => (value ? JSON.stringify(value) : null);
    if (input.name !== undefined) set('name', input.name);
    if (input.sender_account_id !== undefined) set('sender_account_id', input.sender_account_id);
    if (input.steps !== undefined) set('steps', JSON.stringify(toStoredSteps(input.steps)));
    if (input.audience !== undefined) set('audience', JSON.stringify(input.audience ?? {}));
    if (input.schedule !== undefined) set('schedule', json(input.schedule));
    if (input.send_window !== undefined) set('send_window', json(input.send_window));
    if (input.run_cap !== undefined) set('run_cap', input.run_cap);
    if (input.quota_policy !== undefined) set('quota_policy', input.quota_policy);
    if (input.catch_up !== undefined) set('catch_up', input.catch_up);
    if (input.tracking !== undefined) set('tracking', JSON.stringify(input.tracking));
    if (input.status !== undefined) set('status', input.status);
    if (sets.length === 0) return toRecord(row);
    const rows = queryRows<Row>(
      await manager.query(
        `UPDATE campaigns SET ${sets.join(', ')}, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING *`,
        params,
      ),
    );
    return toRecord(rows[0]!);
  }

  /**
   * Soft delete: the campaign gets status archived and its queued or running runs are
   * cancelled (their unsent deliveries with them). Archiving twice is fine. False when the
   * campaign is not the tenant's.
   */
  async archive(tenantId: string, id: string): Promise<boolean> {
    let cancelled: { kind: string; trigger: string }[] = [];
    const archivedOne = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const archived = queryRows<{ id: string }>(
        await manager.query(
          `UPDATE campaigns SET status = 'archived', updated_at = CASE WHEN status = 'archived' THEN updated_at ELSE now() END
            WHERE tenant_id = $1 AND id = $2 RETURNING id`,
          [tenantId, id],
        ),
      );
      if (archived.length === 0) return false;
      const active = await manager.query<{ id: string }[]>(
        `SELECT id FROM campaign_runs WHERE tenant_id = $1 AND campaign_id = $2 AND status IN ('queued', 'running')`,
        [tenantId, id],
      );
      cancelled = await cancelRuns(
        manager,
        tenantId,
        active.map((r) => r.id),
        'campaign archived',
      );
      return true;
    });
    countCancelled(this.metrics, cancelled);
    return archivedOne;
  }
}

async function assertSenderAccount(db: Queryable, tenantId: string, accountId: string): Promise<void> {
  const rows = await db.query<unknown[]>(`SELECT 1 FROM sender_accounts WHERE tenant_id = $1 AND id = $2`, [
    tenantId,
    accountId,
  ]);
  if (rows.length === 0) throw new UnknownSenderAccountError('sender_account_id');
}

/** Steps as the delivery pipeline reads them (`delay` is stored as `delay_seconds`). */
function toStoredSteps(steps: readonly StepInput[]): CampaignStep[] {
  return steps.map((s) => ({
    ...(s.subject !== undefined ? { subject: s.subject } : {}),
    body: s.body,
    ...(s.html !== undefined ? { html: s.html } : {}),
    ...(s.format !== undefined ? { format: s.format } : {}),
    ...(s.delay !== undefined ? { delay_seconds: s.delay } : {}),
    ...(s.variants ? { variants: s.variants } : {}),
    // A step with variants is always an experiment: its winner is computed, promoted only when asked.
    ...(s.variants
      ? {
          experiment: s.experiment ?? {
            metric: 'reply',
            min_sample: 100,
            confidence: 0.95,
            auto_promote: false,
          },
        }
      : {}),
  }));
}

function toRecord(row: Row): CampaignRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    name: row.name,
    kind: row.kind,
    senderAccountId: row.sender_account_id,
    steps: row.steps,
    audience: row.audience,
    schedule: row.schedule,
    sendWindow: row.send_window,
    runCap: row.run_cap,
    quotaPolicy: row.quota_policy,
    catchUp: row.catch_up,
    tracking: row.tracking,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
