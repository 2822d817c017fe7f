import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { LinkSubject } from '@herald/deliveries';
import type { DataSource } from 'typeorm';

/** The delivery a signed link names, as the public pages need it. */
export interface LinkedDelivery {
  deliveryId: string;
  contactId: string;
  email: string | null;
  sentAt: Date | null;
}

@Injectable()
export class MailLinksRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The delivery of a verified link, only when it still is the tenant's and still goes to the
   * contact the link was signed for (a contact erased since is no one to act for).
   */
  async find(subject: LinkSubject): Promise<LinkedDelivery | undefined> {
    const [row] = await this.dataSource.query<
      { id: string; contact_id: string; email: string | null; sent_at: Date | null }[]
    >(
      `SELECT d.id, d.contact_id, c.email, d.sent_at
         FROM deliveries d
         JOIN contacts c ON c.tenant_id = d.tenant_id AND c.id = d.contact_id
        WHERE d.tenant_id = $1 AND d.id = $2 AND d.contact_id = $3`,
      [subject.tenantId, subject.deliveryId, subject.contactId],
    );
    return row && { deliveryId: row.id, contactId: row.contact_id, email: row.email, sentAt: row.sent_at };
  }
}
