import {
  ContactConflictError,
  type ContactsRepository,
  emailSchema,
  type ContactRecord,
} from '@herald/contacts';
import { type EnrollmentsRepository } from '@herald/sequences';
import type { EntityManager } from 'typeorm';
import { CANDIDATE_COLUMNS, type CandidateRow } from '../candidate-row';
import type { QualifyMetrics } from '../qualify-metrics';
import type { HandoffAction } from './handoff-plan';

export type HandOffResult =
  | {
      readonly done: true;
      readonly stage: 'handed_off' | 'rejected' | 'held';
      readonly contactId: string | null;
      readonly enrollmentId: string | null;
    }
  | { readonly done: false; readonly why: string };

/** Tags a handed-off contact carries: where it came from and how it scored. */
export function leadTags(c: Pick<CandidateRow, 'tier' | 'score'>, source: string): string[] {
  return [`lead-tier:${c.tier ?? 'D'}`, `lead-score:${c.score ?? 0}`, `lead-source:${source}`.slice(0, 64)];
}

/**
 * Hands a scored candidate off, exactly once: in the caller's transaction, the candidate row is
 * locked first, so a repeated or concurrent batch finds it already handed off and does nothing.
 * The contact is found by the candidate's email or by `external_ref = candidate:<id>` (a lock
 * per email keeps two candidates with one address from creating two contacts), created or
 * tagged; the enrolment is unique per contact and campaign; the stage changes in the same
 * transaction. A crash anywhere before the commit leaves nothing behind.
 */
export class HandOff {
  constructor(
    private readonly contacts: ContactsRepository,
    private readonly enrollments: EnrollmentsRepository,
    private readonly metrics: QualifyMetrics,
  ) {}

  /** `approving`: a held candidate may go (approve); otherwise only one not held. */
  async handOff(
    manager: EntityManager,
    tenantId: string,
    candidateId: string,
    action: HandoffAction,
    options: { approving?: boolean; source: string },
  ): Promise<HandOffResult> {
    const [c] = await manager.query<CandidateRow[]>(
      `SELECT ${CANDIDATE_COLUMNS} FROM candidates WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenantId, candidateId],
    );
    if (!c) return { done: false, why: 'not_found' };
    if (c.stage !== 'scored') return { done: false, why: `stage_${c.stage}` };
    if (c.held && !options.approving) return { done: false, why: 'held' };
    if (!c.held && options.approving) return { done: false, why: 'not_held' };

    if (action.action === 'hold') {
      await manager.query(
        `UPDATE candidates SET held = true, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
        [tenantId, candidateId],
      );
      return { done: true, stage: 'held', contactId: null, enrollmentId: null };
    }
    if (action.action === 'reject') {
      await manager.query(
        `UPDATE candidates SET stage = 'rejected', held = false, reason = coalesce(reason, 'tier_rejected'), updated_at = now()
          WHERE tenant_id = $1 AND id = $2`,
        [tenantId, candidateId],
      );
      this.metrics.candidates.inc({ stage: 'rejected', tier: c.tier ?? '' });
      return { done: true, stage: 'rejected', contactId: null, enrollmentId: null };
    }

    if (action.action === 'enroll') {
      // A campaign that cannot take the enrolment holds the candidate for a person, with why:
      // nothing is lost and the batch does not fail over and over.
      const [campaign] = await manager.query<{ kind: string; status: string }[]>(
        `SELECT kind, status FROM campaigns WHERE tenant_id = $1 AND id = $2`,
        [tenantId, action.campaign_id],
      );
      const problem = !campaign
        ? 'does not exist'
        : campaign.kind !== 'sequence'
          ? 'is not a sequence'
          : campaign.status === 'archived'
            ? 'is archived'
            : undefined;
      if (problem) {
        await manager.query(
          `UPDATE candidates SET held = true, reason = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
          [tenantId, candidateId, `handoff_failed: campaign ${action.campaign_id} ${problem}`],
        );
        return { done: true, stage: 'held', contactId: null, enrollmentId: null };
      }
    }
    const contact = await this.contactFor(manager, c, options.source);
    let enrollmentId: string | null = null;
    if (action.action === 'enroll') {
      const result = await this.enrollments.enroll(manager, tenantId, action.campaign_id, {
        contactIds: [contact.id],
      });
      if (!result) throw new Error(`hand-off campaign ${action.campaign_id} is not the tenant's`);
      const [row] = await manager.query<{ id: string }[]>(
        `SELECT id FROM enrollments WHERE tenant_id = $1 AND campaign_id = $2 AND contact_id = $3`,
        [tenantId, action.campaign_id, contact.id],
      );
      enrollmentId = row?.id ?? null;
    }
    await manager.query(
      `UPDATE candidates SET stage = 'handed_off', held = false, contact_id = $3, enrollment_id = $4, updated_at = now()
        WHERE tenant_id = $1 AND id = $2`,
      [tenantId, candidateId, contact.id, enrollmentId],
    );
    this.metrics.candidates.inc({ stage: 'handed_off', tier: c.tier ?? '' });
    return { done: true, stage: 'handed_off', contactId: contact.id, enrollmentId };
  }

  private async contactFor(manager: EntityManager, c: CandidateRow, source: string): Promise<ContactRecord> {
    const parsedEmail = emailSchema.safeParse(c.email_normalised ?? c.email ?? '');
    const email = parsedEmail.success ? parsedEmail.data : null;
    const externalRef = `candidate:${c.id}`;
    if (email) {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 11))`, [
        `${c.tenant_id}:${email}`,
      ]);
    }
    const [existing] = await manager.query<{ id: string }[]>(
      `SELECT id FROM contacts WHERE tenant_id = $1 AND (external_ref = $2 OR ($3::text IS NOT NULL AND email = $3))
        ORDER BY (external_ref = $2) DESC LIMIT 1`,
      [c.tenant_id, externalRef, email],
    );
    const tags = leadTags(c, source);
    let contact: ContactRecord;
    if (existing) {
      const current = (await this.contacts.lockById(manager, c.tenant_id, existing.id))!;
      const kept = current.tags.filter((t) => !/^lead-(tier|score|source):/.test(t));
      contact = await this.contacts.update(manager, c.tenant_id, current.id, {
        ...current,
        tags: [...kept, ...tags].slice(-50),
        attributes: { ...current.attributes, ...leadAttributes(c) },
      });
    } else {
      try {
        contact = await this.contacts.create(manager, c.tenant_id, {
          email,
          externalRef,
          profileUrl: c.profile_url && c.profile_url.length <= 2048 ? c.profile_url : null,
          firstName: null,
          lastName: null,
          birthDate: null,
          timeZone: null,
          status: 'active',
          tags,
          attributes: leadAttributes(c),
        });
      } catch (error) {
        if (error instanceof ContactConflictError)
          throw new Error(`hand-off contact conflict for candidate ${c.id}: the job retries`, {
            cause: error,
          });
        throw error;
      }
    }
    await manager.query(`UPDATE contacts SET score = $3, tier = $4 WHERE tenant_id = $1 AND id = $2`, [
      c.tenant_id,
      contact.id,
      c.score,
      c.tier,
    ]);
    return contact;
  }
}

/** What a contact keeps of the candidate it came from (attribute values are JSON). */
function leadAttributes(c: CandidateRow): Record<string, string | number | null> {
  return {
    company: c.name?.slice(0, 200) ?? null,
    website: c.website?.slice(0, 500) ?? null,
    phone: c.phone?.slice(0, 50) ?? null,
    category: c.category?.slice(0, 100) ?? null,
    lead_candidate_id: c.id,
    lead_run_id: c.run_id,
  };
}
