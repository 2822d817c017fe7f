import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  SuppressionExistsError,
  SuppressionsRepository,
  UnknownContactError,
  uuidv7,
} from '@herald/contacts';
import { queryRows } from '@herald/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import { cancelEnrollmentDeliveries } from './enrollments.repository';
import { UnknownCampaignError } from './errors';
import type { SequenceEvent } from './sequence-fields';

export interface EventOutcome {
  interactionId: string;
  /** A suppression (new or already there) now keeps Herald from sending to the contact: bounce and unsubscribe. */
  suppressed: boolean;
  enrollmentsStopped: number;
}

/**
 * Records what happened to a contact outside Herald (a reply, a bounce, an unsubscribe) and
 * acts on it, in one transaction: the interaction in the activity log; for a bounce, an
 * unsubscribe or a complaint a suppression; and the contact's active sequences stop (a reply: `replied`, only
 * the named campaign's when `campaign_id` is given; a bounce or unsubscribe: every one,
 * `stopped`) with their waiting deliveries cancelled. A step being sent at this very moment
 * finishes; the ledger trigger then leaves the stopped enrollment alone.
 */
@Injectable()
export class EventsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly suppressions: SuppressionsRepository,
  ) {}

  /** In `manager`'s transaction when given (the API's, for Idempotency-Key), else in a new one. */
  async record(tenantId: string, event: SequenceEvent, manager?: EntityManager): Promise<EventOutcome> {
    if (manager) return this.recordIn(manager, tenantId, event);
    return this.dataSource.transaction('READ COMMITTED', (m) => this.recordIn(m, tenantId, event));
  }

  private async recordIn(
    manager: EntityManager,
    tenantId: string,
    event: SequenceEvent,
  ): Promise<EventOutcome> {
    const byId = event.target.contactId !== undefined;
    const [contact] = await manager.query<{ id: string; email: string | null }[]>(
      byId
        ? `SELECT id, email FROM contacts WHERE tenant_id = $1 AND id = $2`
        : `SELECT id, email FROM contacts WHERE tenant_id = $1 AND email = $2`,
      [tenantId, event.target.contactId ?? event.target.email],
    );
    if (!contact) throw new UnknownContactError(byId ? 'contact_id' : 'email');
    if (event.campaignId) {
      const found = await manager.query<unknown[]>(
        `SELECT 1 FROM campaigns WHERE tenant_id = $1 AND id = $2`,
        [tenantId, event.campaignId],
      );
      if (found.length === 0) throw new UnknownCampaignError('campaign_id');
    }

    const interactionId = uuidv7();
    await manager.query(
      `INSERT INTO interactions (tenant_id, id, contact_id, type, payload, created_at)
       VALUES ($1, $2, $3, $4, $5, coalesce($6::timestamptz, now()))`,
      [
        tenantId,
        interactionId,
        contact.id,
        event.type,
        JSON.stringify(event.payload),
        event.occurredAt?.toISOString() ?? null,
      ],
    );

    let suppressed = false;
    if (event.type === 'bounce' || event.type === 'unsubscribe' || event.type === 'complaint') {
      // The address is what bounced or unsubscribed: suppressing it also covers a re-imported contact.
      // A complaint (a spam report) is the strongest unsubscribe there is.
      try {
        await this.suppressions.create(manager, tenantId, {
          email: contact.email,
          contactId: contact.email ? null : contact.id,
          reason: event.type === 'complaint' ? 'unsubscribe' : event.type,
          note: event.type === 'complaint' ? 'spam complaint' : null,
        });
      } catch (error) {
        if (!(error instanceof SuppressionExistsError)) throw error;
      }
      suppressed = true;
      // The contact says so too (an archived contact stays archived).
      await manager.query(
        `UPDATE contacts SET status = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2 AND status = 'active'`,
        [tenantId, contact.id, event.type === 'bounce' ? 'bounced' : 'unsubscribed'],
      );
    }

    const onlyCampaign = event.type === 'reply' ? event.campaignId : null;
    const stopped = queryRows<{ id: string }>(
      await manager.query(
        `UPDATE enrollments
            SET status = $3, stop_reason = $4, next_due_at = NULL, finished_at = now(), updated_at = now()
          WHERE tenant_id = $1 AND contact_id = $2 AND status = 'active'
            AND ($5::uuid IS NULL OR campaign_id = $5::uuid)
          RETURNING id`,
        [tenantId, contact.id, event.type === 'reply' ? 'replied' : 'stopped', event.type, onlyCampaign],
      ),
    );
    await cancelEnrollmentDeliveries(
      manager,
      tenantId,
      stopped.map((s) => s.id),
      `stopped by ${event.type}`,
    );
    return { interactionId, suppressed, enrollmentsStopped: stopped.length };
  }
}
