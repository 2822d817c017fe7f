import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UnknownContactError } from '@herald/contacts';
import type { LinkSubject } from '@herald/deliveries';
import { EngagementRecorder } from '@herald/engagement';
import { EventsService } from '@herald/sequences';
import { CLOCK, type Clock } from '@herald/time';
import type { DataSource } from 'typeorm';
import { MailLinksRepository } from './mail-links.repository';

/** The engagement source of unsubscribes confirmed on the hosted page (or by a one-click POST). */
export const UNSUBSCRIBE_SOURCE = 'unsubscribe-page';

/**
 * Confirms an unsubscribe from a signed link, within the request: the `unsubscribed` event
 * (idempotent on the delivery: one per message), and only when it is new the suppression and
 * stopped enrolments of EventsService — the same logic as `POST /v1/events`, in one transaction.
 */
@Injectable()
export class UnsubscribeService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly deliveries: MailLinksRepository,
    private readonly recorder: EngagementRecorder,
    private readonly events: EventsService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** False when the link names no delivery of its tenant (any more). Repeating it is harmless. */
  async confirm(subject: LinkSubject): Promise<boolean> {
    const delivery = await this.deliveries.find(subject);
    if (!delivery) return false;
    try {
      await this.dataSource.transaction('READ COMMITTED', async (manager) => {
        const { recorded } = await this.recorder.record(manager, {
          tenantId: subject.tenantId,
          kind: 'unsubscribed',
          source: UNSUBSCRIBE_SOURCE,
          sourceEventId: subject.deliveryId,
          occurredAt: new Date(this.clock.nowMs()),
          deliveryId: subject.deliveryId,
        });
        if (!recorded) return;
        await this.events.record(
          subject.tenantId,
          {
            type: 'unsubscribe',
            target: { contactId: delivery.contactId },
            campaignId: null,
            occurredAt: null,
            payload: { delivery_id: subject.deliveryId, source: 'link' },
          },
          manager,
        );
      });
    } catch (error) {
      // Erased between the look-up and the transaction: nobody left to unsubscribe.
      if (error instanceof UnknownContactError) return false;
      throw error;
    }
    return true;
  }
}
