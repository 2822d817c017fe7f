import { Injectable } from '@nestjs/common';
import type { KeysetPosition } from '@herald/persistence';
import type { EntityManager } from 'typeorm';
import { mergedAttributesProblem } from './attribute-caps';
import {
  toChanges,
  type ContactCreateInput,
  type ContactFields,
  type ContactPatchInput,
} from './contact-fields';
import type { ContactFilter } from './contact-filter';
import {
  applyChanges,
  ContactsRepository,
  type ContactRecord,
  type ContactViewRow,
} from './contacts.repository';
import { ContactValidationError } from './errors';

@Injectable()
export class ContactsService {
  constructor(private readonly contacts: ContactsRepository) {}

  create(manager: EntityManager, tenantId: string, input: ContactCreateInput): Promise<ContactRecord> {
    const fields: ContactFields = {
      email: null,
      externalRef: null,
      profileUrl: null,
      firstName: null,
      lastName: null,
      birthDate: null,
      timeZone: null,
      status: 'active',
      tags: [],
      attributes: {},
      ...toChanges(input),
    };
    return this.contacts.create(manager, tenantId, fields);
  }

  get(tenantId: string, id: string): Promise<ContactRecord | null> {
    return this.contacts.findById(tenantId, id);
  }

  /** Read, merge and write under a row lock, so concurrent patches of one contact never lose a change. */
  async patch(
    manager: EntityManager,
    tenantId: string,
    id: string,
    input: ContactPatchInput,
  ): Promise<ContactRecord | null> {
    const current = await this.contacts.lockById(manager, tenantId, id);
    if (!current) return null;
    const { attributes, ...rest } = input;
    const next = applyChanges(current, { ...toChanges(rest), ...(attributes ? { attributes } : {}) });
    if (next.email === null && next.externalRef === null) {
      throw new ContactValidationError('email', 'a contact needs an email or an external_ref');
    }
    const capProblem = attributes ? mergedAttributesProblem(next.attributes) : undefined;
    if (capProblem) throw new ContactValidationError('attributes', capProblem);
    return this.contacts.update(manager, tenantId, id, next);
  }

  archive(tenantId: string, id: string): Promise<boolean> {
    return this.contacts.archive(tenantId, id);
  }

  page(
    tenantId: string,
    filter: ContactFilter,
    after: KeysetPosition | null,
    limit: number,
  ): Promise<ContactRecord[]> {
    return this.contacts.page(tenantId, filter, after, limit);
  }

  /** A page as the API's JSON, rendered by Postgres; undefined where page() must be used. */
  pageViews(
    tenantId: string,
    filter: ContactFilter,
    after: KeysetPosition | null,
    limit: number,
  ): Promise<ContactViewRow[] | undefined> {
    return this.contacts.pageViews(tenantId, filter, after, limit);
  }
}
