import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  CampaignStateError,
  type CampaignKind,
  type CampaignStatus,
  type CampaignStep,
} from '@herald/campaigns';
import { buildContactPageQuery } from '@herald/contacts';
import { audienceFilter } from '@herald/deliveries';
import { queryRows, type KeysetPosition } from '@herald/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import type { EnrollmentRequest, EnrollmentStatus } from './sequence-fields';

export interface EnrollmentRecord {
  tenantId: string;
  id: string;
  campaignId: string;
  contactId: string;
  status: EnrollmentStatus;
  stopReason: string | null;
  currentStep: number;
  nextDueAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface EnrollResult {
  enrolled: number;
  alreadyEnrolled: number;
  /** Ids given that name no active contact of the tenant (only when enrolling by ids). */
  notFound: string[];
}

/** What removing a contact from a sequence found. */
export type RemoveOutcome = 'removed' | 'already-finished' | 'not-enrolled' | 'no-campaign';

interface Row {
  tenant_id: string;
  id: string;
  campaign_id: string;
  contact_id: string;
  status: EnrollmentStatus;
  stop_reason: string | null;
  current_step: number;
  next_due_at: Date | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

/** Every contact of a filter (a page size no tenant reaches). */
const WHOLE_AUDIENCE = 2_147_483_647;

/**
 * Enrollments: which contacts go through a sequence campaign's steps, and where each one is.
 * Every statement is scoped by tenant. Enrolling is set-based (one INSERT … SELECT, whatever
 * the number of contacts) and idempotent: a contact is enrolled in a campaign at most once,
 * ever (UNIQUE (tenant_id, campaign_id, contact_id)), so re-enrolling changes nothing.
 */
@Injectable()
export class EnrollmentsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Enrolls active contacts, their first step due after its delay. Undefined when the campaign is
   * not the tenant's; CampaignStateError when it is not a sequence or is archived.
   */
  async enroll(
    manager: EntityManager,
    tenantId: string,
    campaignId: string,
    request: EnrollmentRequest,
  ): Promise<EnrollResult | undefined> {
    // FOR SHARE: an archive waits for this enrollment to commit (and the ticker then stops it).
    const [campaign] = await manager.query<
      { kind: CampaignKind; status: CampaignStatus; steps: CampaignStep[] }[]
    >(`SELECT kind, status, steps FROM campaigns WHERE tenant_id = $1 AND id = $2 FOR SHARE`, [
      tenantId,
      campaignId,
    ]);
    if (!campaign) return undefined;
    if (campaign.kind !== 'sequence')
      throw new CampaignStateError(
        `Only sequence campaigns take enrollments; this one is a ${campaign.kind}.`,
      );
    if (campaign.status === 'archived') throw new CampaignStateError('This campaign is archived.');
    const firstDelay = campaign.steps[0]?.delay_seconds ?? 0;

    const found =
      'contactIds' in request
        ? {
            sql: `SELECT c.id FROM contacts c WHERE c.tenant_id = $1 AND c.id = ANY ($2::uuid[]) AND c.status = 'active'`,
            params: [tenantId, request.contactIds] as unknown[],
          }
        : buildContactPageQuery(tenantId, audienceFilter(request.filter), null, WHOLE_AUDIENCE, 'id');
    const base = found.params.length;
    const [result] = await manager.query<{ matched: string; enrolled: string; missing: string[] | null }[]>(
      `WITH found AS (${found.sql}),
            ins AS (
              INSERT INTO enrollments (tenant_id, id, campaign_id, contact_id, next_due_at)
              SELECT $1, uuidv7(), $${base + 1}::uuid, f.id,
                     now() + make_interval(secs => $${base + 2}::double precision)
                FROM found f ORDER BY f.id
              ON CONFLICT (tenant_id, campaign_id, contact_id) DO NOTHING
              RETURNING 1)
       SELECT (SELECT count(*) FROM found) AS matched,
              (SELECT count(*) FROM ins) AS enrolled,
              ${
                'contactIds' in request
                  ? `ARRAY(SELECT w.id FROM unnest($2::uuid[]) AS w (id) WHERE NOT EXISTS (SELECT 1 FROM found f WHERE f.id = w.id))`
                  : `NULL::uuid[]`
              } AS missing`,
      [...found.params, campaignId, firstDelay],
    );
    const matched = Number(result?.matched ?? 0);
    const enrolled = Number(result?.enrolled ?? 0);
    return { enrolled, alreadyEnrolled: matched - enrolled, notFound: result?.missing ?? [] };
  }

  /**
   * Takes a contact out of a sequence: its enrollment is stopped ('removed') and the deliveries
   * it still had waiting are cancelled, in one transaction (one being sent right now finishes).
   * A finished enrollment stays as it is.
   */
  async remove(tenantId: string, campaignId: string, contactId: string): Promise<RemoveOutcome> {
    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const stopped = queryRows<{ id: string }>(
        await manager.query(
          `UPDATE enrollments
              SET status = 'stopped', stop_reason = 'removed', next_due_at = NULL, finished_at = now(), updated_at = now()
            WHERE tenant_id = $1 AND campaign_id = $2 AND contact_id = $3 AND status = 'active'
            RETURNING id`,
          [tenantId, campaignId, contactId],
        ),
      );
      if (stopped.length > 0) {
        await cancelEnrollmentDeliveries(
          manager,
          tenantId,
          stopped.map((s) => s.id),
          'enrollment removed',
        );
        return 'removed';
      }
      const [state] = await manager.query<{ campaign: boolean; enrolled: boolean }[]>(
        `SELECT EXISTS (SELECT 1 FROM campaigns WHERE tenant_id = $1 AND id = $2) AS campaign,
                EXISTS (SELECT 1 FROM enrollments WHERE tenant_id = $1 AND campaign_id = $2 AND contact_id = $3) AS enrolled`,
        [tenantId, campaignId, contactId],
      );
      if (!state?.campaign) return 'no-campaign';
      return state.enrolled ? 'already-finished' : 'not-enrolled';
    });
  }

  /**
   * A keyset page of a campaign's enrollments in enrollment order; ask for one more than the page
   * size to know if another follows. Undefined when the campaign is not the tenant's.
   */
  async page(
    tenantId: string,
    campaignId: string,
    filter: { status?: EnrollmentStatus },
    after: KeysetPosition | null,
    limit: number,
  ): Promise<EnrollmentRecord[] | undefined> {
    const campaign = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM campaigns WHERE tenant_id = $1 AND id = $2`,
      [tenantId, campaignId],
    );
    if (campaign.length === 0) return undefined;
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM enrollments
        WHERE tenant_id = $1 AND campaign_id = $2
          AND ($3::text IS NULL OR status = $3)
          AND ($4::timestamptz IS NULL OR (created_at, id) > ($4::timestamptz, $5::uuid))
        ORDER BY created_at, id
        LIMIT $6`,
      [
        tenantId,
        campaignId,
        filter.status ?? null,
        after?.createdAt.toISOString() ?? null,
        after?.id ?? null,
        limit,
      ],
    );
    return rows.map(toRecord);
  }

  /** One contact's enrollment in a campaign. */
  async find(tenantId: string, campaignId: string, contactId: string): Promise<EnrollmentRecord | undefined> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM enrollments WHERE tenant_id = $1 AND campaign_id = $2 AND contact_id = $3`,
      [tenantId, campaignId, contactId],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }
}

/**
 * Cancels what stopped enrollments still had waiting (pending or deferred). Call after stopping
 * the enrollments: the ledger trigger then finds them no longer active and leaves them alone.
 */
export async function cancelEnrollmentDeliveries(
  manager: Pick<EntityManager, 'query'>,
  tenantId: string,
  enrollmentIds: readonly string[],
  reason: string,
): Promise<number> {
  if (enrollmentIds.length === 0) return 0;
  const rows = queryRows<{ id: string }>(
    await manager.query(
      `UPDATE deliveries SET status = 'cancelled', last_error = $3, lease_until = NULL, updated_at = now()
        WHERE tenant_id = $1 AND enrollment_id = ANY ($2::uuid[]) AND status IN ('pending', 'deferred')
        RETURNING id`,
      [tenantId, enrollmentIds, reason],
    ),
  );
  return rows.length;
}

function toRecord(row: Row): EnrollmentRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    campaignId: row.campaign_id,
    contactId: row.contact_id,
    status: row.status,
    stopReason: row.stop_reason,
    currentStep: row.current_step,
    nextDueAt: row.next_due_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}
