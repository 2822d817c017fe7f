import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows, type KeysetPosition } from '@herald/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import type { Attributes, ContactChanges, ContactFields, ContactStatus } from './contact-fields';
import { likePrefix, type ContactFilter } from './contact-filter';
import { ContactConflictError } from './errors';
import { uuidv7, uuidv7Floor, uuidv7Time } from './ids';

export interface ContactRecord extends ContactFields {
  id: string;
  tenantId: string;
  score: number | null;
  tier: string | null;
  createdAt: Date;
  updatedAt: Date;
  archivedAt: Date | null;
}

export interface ContactRow {
  id: string;
  tenant_id: string;
  email: string | null;
  external_ref: string | null;
  profile_url: string | null;
  first_name: string | null;
  last_name: string | null;
  birth_date: string | null;
  time_zone: string | null;
  status: ContactStatus;
  tags: string[];
  attributes: Attributes;
  score: number | null;
  tier: string | null;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

/** birth_date as text: a calendar day must not travel through a JavaScript Date and a time zone. */
export const CONTACT_COLUMNS = `id, tenant_id, email, external_ref, profile_url, first_name, last_name,
  to_char(birth_date, 'YYYY-MM-DD') AS birth_date, time_zone, status, tags, attributes, score, tier,
  created_at, updated_at, archived_at`;

/**
 * A list row as Postgres renders it: the API's contact object as JSON text (the fields, names
 * and formats of contactView in apps/api), with the keyset position beside it. A page of 50 is
 * then 50 strings joined, not 50 rows parsed into Dates, arrays and objects and stringified again.
 */
const CONTACT_VIEW_COLUMNS = `id, floor(extract(epoch FROM created_at) * 1000)::text AS created_ms,
  json_build_object(
    'id', id, 'email', email, 'external_ref', external_ref, 'profile_url', profile_url,
    'first_name', first_name, 'last_name', last_name, 'birth_date', to_char(birth_date, 'YYYY-MM-DD'),
    'time_zone', time_zone, 'status', status, 'tags', tags, 'attributes', attributes, 'score', score,
    'tier', tier, 'created_at', ${isoUtc('created_at')}, 'updated_at', ${isoUtc('updated_at')},
    'archived_at', ${isoUtc('archived_at')})::text AS view`;

/** A timestamp as Date.prototype.toISOString writes it (UTC, milliseconds, Z); NULL stays NULL. */
function isoUtc(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** One contact of a list page: its JSON as the API answers it, and its keyset position. */
export interface ContactViewRow {
  id: string;
  createdAt: Date;
  json: string;
}

/** The expression idx_contacts_tenant_name indexes: keep the two in step. */
const NAME_KEY = `lower(btrim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')))`;

const UNIQUE_FIELDS: Record<string, 'email' | 'external_ref'> = {
  uq_contacts_tenant_email: 'email',
  uq_contacts_tenant_external_ref: 'external_ref',
};

@Injectable()
export class ContactsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Throws ContactConflictError when the email or external_ref is taken in this tenant. */
  async create(manager: EntityManager, tenantId: string, fields: ContactFields): Promise<ContactRecord> {
    const id = uuidv7();
    const rows = await uniqueViolationsAsConflicts(
      manager.query<ContactRow[]>(
        `INSERT INTO contacts (tenant_id, id, email, external_ref, profile_url, first_name, last_name,
           birth_date, time_zone, status, tags, attributes, archived_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, CASE WHEN $10 = 'archived' THEN now() END, $13)
         RETURNING ${CONTACT_COLUMNS}`,
        [tenantId, id, ...fieldParams(fields), new Date(uuidv7Time(id)).toISOString()],
      ),
    );
    return toContact(rows[0]!);
  }

  async findById(tenantId: string, id: string, manager?: EntityManager): Promise<ContactRecord | null> {
    const rows = await (manager ?? this.dataSource).query<ContactRow[]>(
      `SELECT ${CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0] ? toContact(rows[0]) : null;
  }

  async lockById(manager: EntityManager, tenantId: string, id: string): Promise<ContactRecord | null> {
    const rows = await manager.query<ContactRow[]>(
      `SELECT ${CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenantId, id],
    );
    return rows[0] ? toContact(rows[0]) : null;
  }

  /** Writes the whole field set (the caller merged the changes); archived_at follows status. */
  async update(
    manager: EntityManager,
    tenantId: string,
    id: string,
    fields: ContactFields,
  ): Promise<ContactRecord> {
    const rows = await uniqueViolationsAsConflicts(
      manager.query<unknown>(
        `UPDATE contacts SET email = $3, external_ref = $4, profile_url = $5, first_name = $6, last_name = $7,
           birth_date = $8, time_zone = $9, status = $10, tags = $11, attributes = $12, updated_at = now(),
           archived_at = CASE WHEN $10 = 'archived' THEN coalesce(archived_at, now()) END
         WHERE tenant_id = $1 AND id = $2
         RETURNING ${CONTACT_COLUMNS}`,
        [tenantId, id, ...fieldParams(fields)],
      ),
    );
    return toContact(queryRows<ContactRow>(rows)[0]!);
  }

  /** Soft delete: status archived. false when the tenant has no such contact. Archiving twice is fine. */
  async archive(tenantId: string, id: string): Promise<boolean> {
    const result = await this.dataSource.query<unknown>(
      `UPDATE contacts SET status = 'archived', archived_at = coalesce(archived_at, now()),
         updated_at = CASE WHEN status = 'archived' THEN updated_at ELSE now() END
       WHERE tenant_id = $1 AND id = $2 RETURNING id`,
      [tenantId, id],
    );
    return queryRows(result).length > 0;
  }

  /**
   * One keyset page of a tenant's contacts matching `filter`, in creation order (by id, a UUIDv7).
   * Reused by campaign fan-out: pass the last row's position as `after` for the next page.
   */
  async page(
    tenantId: string,
    filter: ContactFilter,
    after: KeysetPosition | null,
    limit: number,
    manager?: EntityManager,
  ): Promise<ContactRecord[]> {
    const { sql, params } = buildContactPageQuery(tenantId, filter, after, limit);
    const rows = await (manager ?? this.dataSource).query<ContactRow[]>(sql, params);
    return rows.map(toContact);
  }

  /** See pageViews. */
  pageViews(
    tenantId: string,
    filter: ContactFilter,
    after: KeysetPosition | null,
    limit: number,
  ): Promise<ContactViewRow[] | undefined> {
    return pageViews(this.dataSource, tenantId, filter, after, limit);
  }
}

/**
 * page() rendered by Postgres (ContactViewRow), for a filter that walks the tenant in id order;
 * undefined for the filters whose query first gathers matches (`q`, birthdays), where rendering
 * every match before the limit would cost more than it saves.
 */
export async function pageViews(
  dataSource: Pick<DataSource, 'query'>,
  tenantId: string,
  filter: ContactFilter,
  after: KeysetPosition | null,
  limit: number,
): Promise<ContactViewRow[] | undefined> {
  if (filter.q || (filter.birthMonthDays && filter.birthMonthDays.length > 0)) return undefined;
  const { sql, params } = buildContactPageQuery(tenantId, filter, after, limit, CONTACT_VIEW_COLUMNS);
  const rows = await dataSource.query<{ id: string; created_ms: string; view: string }[]>(sql, params);
  return rows.map((r) => ({ id: r.id, createdAt: new Date(Number(r.created_ms)), json: r.view }));
}

/** The SQL behind page(): exported so the index-use tests EXPLAIN exactly what the API runs. */
export function buildContactPageQuery(
  tenantId: string,
  filter: ContactFilter,
  after: KeysetPosition | null,
  limit: number,
  columns = CONTACT_COLUMNS,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [tenantId];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = ['tenant_id = $1'];
  if (filter.statuses && filter.statuses.length > 0) {
    where.push(
      filter.statuses.length === 1
        ? `status = ${param(filter.statuses[0])}`
        : `status = ANY (${param(filter.statuses)}::text[])`,
    );
  } else {
    where.push(`status <> 'archived'`);
  }
  if (filter.tags && filter.tags.length > 0) {
    // The expression idx_contacts_tenant_tags indexes.
    where.push(
      `contact_tag_keys(tenant_id, tags) @> contact_tag_keys($1::uuid, ${param(filter.tags)}::text[])`,
    );
  }
  if (filter.birthMonthDays && filter.birthMonthDays.length > 0) {
    where.push(
      filter.birthMonthDays.length === 1
        ? `birth_md = ${param(filter.birthMonthDays[0])}::smallint`
        : `birth_md = ANY (${param(filter.birthMonthDays)}::smallint[])`,
    );
  }
  // created_at is the UUIDv7 id's own timestamp (ms): creation ranges are id ranges on the primary key.
  if (filter.createdAfter) {
    const ms = filter.createdAfter.getTime();
    where.push(
      `id >= ${param(uuidv7Floor(ms + 1))}::uuid AND created_at > ${param(new Date(ms).toISOString())}::timestamptz`,
    );
  }
  if (filter.createdBefore) {
    const ms = filter.createdBefore.getTime();
    where.push(
      `id < ${param(uuidv7Floor(ms))}::uuid AND created_at < ${param(new Date(ms).toISOString())}::timestamptz`,
    );
  }
  if (filter.q) {
    const pattern = param(likePrefix(filter.q.toLowerCase()));
    where.push(`(email LIKE ${pattern} OR ${NAME_KEY} LIKE ${pattern})`);
  }
  if (after) where.push(`id > ${param(after.id)}::uuid`);
  const limitParam = param(limit);
  if (filter.q || (filter.birthMonthDays && filter.birthMonthDays.length > 0)) {
    // Prefix searches and birthdays select small sets (a day is about 1/365 of a tenant) that the
    // planner can misjudge: find the matches through their own indexes first, then order them,
    // rather than walk the tenant in id order filtering.
    return {
      sql: `WITH matches AS MATERIALIZED (SELECT ${columns} FROM contacts WHERE ${where.join(' AND ')})
            SELECT * FROM matches ORDER BY id LIMIT ${limitParam}`,
      params,
    };
  }
  return {
    sql: `SELECT ${columns} FROM contacts WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${limitParam}`,
    params,
  };
}

export function toContact(row: ContactRow): ContactRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    externalRef: row.external_ref,
    profileUrl: row.profile_url,
    firstName: row.first_name,
    lastName: row.last_name,
    birthDate: row.birth_date,
    timeZone: row.time_zone,
    status: row.status,
    tags: row.tags,
    attributes: row.attributes,
    score: row.score,
    tier: row.tier,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    archivedAt: row.archived_at,
  };
}

/** Merge a partial change set into full fields (attributes merge key by key; null removes a key). */
export function applyChanges(
  current: ContactFields,
  changes: ContactChanges & { attributes?: Record<string, unknown> },
): ContactFields {
  const next: ContactFields = { ...current, ...changes, attributes: current.attributes };
  if (changes.attributes) {
    const merged: Record<string, unknown> = { ...current.attributes };
    for (const [key, value] of Object.entries(changes.attributes)) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    next.attributes = merged as Attributes;
  }
  return next;
}

async function uniqueViolationsAsConflicts<T>(query: Promise<T>): Promise<T> {
  try {
    return await query;
  } catch (error) {
    const pg =
      (error as { driverError?: { code?: string; constraint?: string } }).driverError ??
      (error as { code?: string; constraint?: string });
    const field = pg.code === '23505' && pg.constraint ? UNIQUE_FIELDS[pg.constraint] : undefined;
    if (field) throw new ContactConflictError(field);
    throw error;
  }
}

/** The contact columns $3…$12 of the insert and the update, in their order. */
function fieldParams(fields: ContactFields): unknown[] {
  return [
    fields.email,
    fields.externalRef,
    fields.profileUrl,
    fields.firstName,
    fields.lastName,
    fields.birthDate,
    fields.timeZone,
    fields.status,
    fields.tags,
    JSON.stringify(fields.attributes),
  ];
}
