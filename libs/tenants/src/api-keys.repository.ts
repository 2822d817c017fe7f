import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows } from '@herald/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import type { ApiKeyScope } from './principal';

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** What authentication needs: the stored hash and the tenant's time zone, found by the key's public prefix. */
export interface ApiKeyCredential {
  id: string;
  tenantId: string;
  tenantTimeZone: string;
  scopes: ApiKeyScope[];
  secretHash: Buffer;
  revoked: boolean;
}

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, tenant_id, name, prefix, scopes, created_at, last_used_at, revoked_at';

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(
    manager: EntityManager,
    tenantId: string,
    input: { name: string; prefix: string; secretHash: Buffer; scopes: readonly ApiKeyScope[] },
  ): Promise<ApiKeyRecord> {
    const rows: ApiKeyRow[] = await manager.query(
      `INSERT INTO api_keys (tenant_id, name, prefix, secret_hash, scopes) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${COLUMNS}`,
      [tenantId, input.name, input.prefix, input.secretHash, input.scopes],
    );
    return toRecord(rows[0]!);
  }

  async findCredentialByPrefix(prefix: string): Promise<ApiKeyCredential | null> {
    const rows: {
      id: string;
      tenant_id: string;
      time_zone: string;
      scopes: ApiKeyScope[];
      secret_hash: Buffer;
      revoked: boolean;
    }[] = await this.dataSource.query(
      `SELECT k.id, k.tenant_id, t.time_zone, k.scopes, k.secret_hash, k.revoked_at IS NOT NULL AS revoked
       FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.prefix = $1`,
      [prefix],
    );
    const row = rows[0];
    return row
      ? {
          id: row.id,
          tenantId: row.tenant_id,
          tenantTimeZone: row.time_zone,
          scopes: row.scopes,
          secretHash: row.secret_hash,
          revoked: row.revoked,
        }
      : null;
  }

  /**
   * Stores a key's hash made with the current pepper in place of `previous.secretHash`, only if
   * that is still the stored one; false when something else changed it first.
   */
  async replaceSecretHash(
    previous: Pick<ApiKeyCredential, 'tenantId' | 'id' | 'secretHash'>,
    secretHash: Buffer,
  ): Promise<boolean> {
    const rows = queryRows<{ id: string }>(
      await this.dataSource.query(
        `UPDATE api_keys SET secret_hash = $4 WHERE tenant_id = $1 AND id = $2 AND secret_hash = $3 RETURNING id`,
        [previous.tenantId, previous.id, previous.secretHash, secretHash],
      ),
    );
    return rows.length > 0;
  }

  /** Newest last, keyset on (created_at, id). Revoked keys are listed too (with revoked_at). */
  async page(
    tenantId: string,
    after: { createdAt: Date; id: string } | null,
    limit: number,
  ): Promise<ApiKeyRecord[]> {
    const rows: ApiKeyRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM api_keys
       WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
       ORDER BY created_at, id LIMIT $4`,
      [tenantId, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows.map(toRecord);
  }

  /** Locks the tenant's unrevoked admin keys (so two revocations cannot both remove "the other" last admin key). */
  async lockActiveAdminKeyIds(manager: EntityManager, tenantId: string): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL AND 'admin' = ANY (scopes)
       ORDER BY id FOR UPDATE`,
      [tenantId],
    );
    return rows.map((r) => r.id);
  }

  async findById(manager: EntityManager, tenantId: string, id: string): Promise<ApiKeyRecord | null> {
    const rows: ApiKeyRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async revoke(manager: EntityManager, tenantId: string, id: string): Promise<void> {
    await manager.query(
      `UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`,
      [tenantId, id],
    );
  }

  /** One statement for every key seen since the last flush; never moves last_used_at backwards. */
  async recordLastUsed(seen: readonly { tenantId: string; id: string; at: Date }[]): Promise<void> {
    if (seen.length === 0) return;
    await this.dataSource.query(
      `UPDATE api_keys k SET last_used_at = GREATEST(k.last_used_at, v.at)
       FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS v(tenant_id, id, at)
       WHERE k.tenant_id = v.tenant_id AND k.id = v.id`,
      [seen.map((s) => s.tenantId), seen.map((s) => s.id), seen.map((s) => s.at.toISOString())],
    );
  }
}

function toRecord(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
