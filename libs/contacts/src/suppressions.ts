import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows, type KeysetPosition } from '@herald/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import { SuppressionExistsError, UnknownContactError } from './errors';
import { uuidv7 } from './ids';

export const SUPPRESSION_REASONS = ['unsubscribe', 'bounce', 'manual'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface SuppressionRecord {
  id: string;
  tenantId: string;
  email: string | null;
  contactId: string | null;
  reason: SuppressionReason;
  note: string | null;
  createdAt: Date;
}

export interface SuppressionFilter {
  email?: string;
  contactId?: string;
  reason?: SuppressionReason;
}

interface SuppressionRow {
  id: string;
  tenant_id: string;
  email: string | null;
  contact_id: string | null;
  reason: SuppressionReason;
  note: string | null;
  created_at: Date;
}

const COLUMNS = 'id, tenant_id, email, contact_id, reason, note, created_at';

/** Email addresses and contacts a tenant must never send to. */
@Injectable()
export class SuppressionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Exactly one of email / contactId. Throws SuppressionExistsError (with the existing id) when the
   * target is already suppressed, UnknownContactError when the contact is not the tenant's.
   */
  async create(
    manager: EntityManager,
    tenantId: string,
    input: { email: string | null; contactId: string | null; reason: SuppressionReason; note: string | null },
  ): Promise<SuppressionRecord> {
    let rows: SuppressionRow[];
    try {
      rows = await manager.query<SuppressionRow[]>(
        `INSERT INTO suppressions (tenant_id, id, email, contact_id, reason, note) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
        [tenantId, uuidv7(), input.email, input.contactId, input.reason, input.note],
      );
    } catch (error) {
      const e = error as { code?: string; driverError?: { code?: string } };
      if ((e.driverError?.code ?? e.code) === '23503') throw new UnknownContactError('contact_id');
      throw error;
    }
    if (rows[0]) return toSuppression(rows[0]);
    const existing = await manager.query<{ id: string }[]>(
      `SELECT id FROM suppressions WHERE tenant_id = $1 AND (email = $2 OR contact_id = $3)`,
      [tenantId, input.email, input.contactId],
    );
    throw new SuppressionExistsError(existing[0]?.id ?? '');
  }

  async findById(tenantId: string, id: string): Promise<SuppressionRecord | null> {
    const rows = await this.dataSource.query<SuppressionRow[]>(
      `SELECT ${COLUMNS} FROM suppressions WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0] ? toSuppression(rows[0]) : null;
  }

  /** false when the tenant has no such suppression. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.dataSource.query<unknown>(
      `DELETE FROM suppressions WHERE tenant_id = $1 AND id = $2 RETURNING id`,
      [tenantId, id],
    );
    return queryRows(result).length > 0;
  }

  /** Checked before every send: is this contact, or this address, suppressed? */
  async isSuppressed(
    tenantId: string,
    target: { contactId?: string | null; email?: string | null },
  ): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM suppressions WHERE tenant_id = $1 AND (contact_id = $2::uuid OR email = $3) LIMIT 1`,
      [tenantId, target.contactId ?? null, target.email?.toLowerCase() ?? null],
    );
    return rows.length > 0;
  }

  async page(
    tenantId: string,
    filter: SuppressionFilter,
    after: KeysetPosition | null,
    limit: number,
  ): Promise<SuppressionRecord[]> {
    const params: unknown[] = [tenantId];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const where = ['tenant_id = $1'];
    if (filter.email) where.push(`email = ${param(filter.email)}`);
    if (filter.contactId) where.push(`contact_id = ${param(filter.contactId)}::uuid`);
    if (filter.reason) where.push(`reason = ${param(filter.reason)}`);
    if (after)
      where.push(
        `(created_at, id) > (${param(after.createdAt.toISOString())}::timestamptz, ${param(after.id)}::uuid)`,
      );
    const rows = await this.dataSource.query<SuppressionRow[]>(
      `SELECT ${COLUMNS} FROM suppressions WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT ${param(limit)}`,
      params,
    );
    return rows.map(toSuppression);
  }
}

function toSuppression(row: SuppressionRow): SuppressionRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    contactId: row.contact_id,
    reason: row.reason,
    note: row.note,
    createdAt: row.created_at,
  };
}
