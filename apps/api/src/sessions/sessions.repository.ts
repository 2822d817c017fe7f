import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { queryRows } from '@herald/persistence';
import type { ApiKeyScope } from '@herald/tenants';
import type { DataSource } from 'typeorm';

/** Who a session or a link acts as: a tenant's key, or the platform (no tenant, no key). */
export type SessionOwner = { kind: 'tenant'; tenantId: string; keyId: string } | { kind: 'platform' };

/** A live session as the lookup finds it, with what it acts as now. */
export interface LiveSession {
  tenantId: string | null;
  keyId: string | null;
  /** The key's scopes (the key's row, not a copy: a session has exactly its key's scopes). */
  scopes: ApiKeyScope[];
  tenantTimeZone: string | null;
  csrfTokenHash: Buffer;
  platformBinding: Buffer | null;
  lastSeenAt: Date;
  expiresAt: Date;
}

/** Console sessions and one-time sign-in links, in Postgres; only hashes of their tokens. */
@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(input: {
    tokenHash: Buffer;
    owner: SessionOwner;
    scopes: readonly ApiKeyScope[];
    csrfTokenHash: Buffer;
    platformBinding: Buffer | null;
    maxAgeSeconds: number;
  }): Promise<{ createdAt: Date; expiresAt: Date }> {
    const owner = input.owner.kind === 'tenant' ? input.owner : null;
    const [row] = queryRows<{ createdAt: Date; expiresAt: Date }>(
      await this.dataSource.query(
        `INSERT INTO console_sessions
           (token_hash, tenant_id, api_key_id, scopes, csrf_token_hash, platform_binding, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
         RETURNING created_at AS "createdAt", expires_at AS "expiresAt"`,
        [
          input.tokenHash,
          owner?.tenantId ?? null,
          owner?.keyId ?? null,
          input.scopes,
          input.csrfTokenHash,
          input.platformBinding,
          input.maxAgeSeconds,
        ],
      ),
    );
    return row!;
  }

  /**
   * The session, when it is neither past its absolute end nor idle too long, and its key (if
   * any) is not revoked; the key's current scopes and the tenant's zone come with it.
   */
  async findLive(tokenHash: Buffer, idleSeconds: number): Promise<LiveSession | null> {
    const [row] = queryRows<LiveSession>(
      await this.dataSource.query(
        `SELECT s.tenant_id AS "tenantId", s.api_key_id AS "keyId",
                coalesce(k.scopes, '{}') AS scopes, t.time_zone AS "tenantTimeZone",
                s.csrf_token_hash AS "csrfTokenHash", s.platform_binding AS "platformBinding",
                s.last_seen_at AS "lastSeenAt", s.expires_at AS "expiresAt"
           FROM console_sessions s
           LEFT JOIN api_keys k ON k.tenant_id = s.tenant_id AND k.id = s.api_key_id
           LEFT JOIN tenants t ON t.id = s.tenant_id
          WHERE s.token_hash = $1
            AND s.expires_at > now()
            AND s.last_seen_at > now() - make_interval(secs => $2)
            AND (s.api_key_id IS NULL OR (k.id IS NOT NULL AND k.revoked_at IS NULL))`,
        [tokenHash, idleSeconds],
      ),
    );
    return row ?? null;
  }

  /** Marks the session used now; a no-op when it was marked within the last `withinSeconds`. */
  async touch(tokenHash: Buffer, withinSeconds: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE console_sessions SET last_seen_at = now()
        WHERE token_hash = $1 AND last_seen_at < now() - make_interval(secs => $2)`,
      [tokenHash, withinSeconds],
    );
  }

  async delete(tokenHash: Buffer): Promise<void> {
    await this.dataSource.query(`DELETE FROM console_sessions WHERE token_hash = $1`, [tokenHash]);
  }

  async createLink(tokenHash: Buffer, owner: SessionOwner, ttlSeconds: number): Promise<Date> {
    const tenant = owner.kind === 'tenant' ? owner : null;
    const [row] = queryRows<{ expiresAt: Date }>(
      await this.dataSource.query(
        `INSERT INTO console_sign_in_links (token_hash, tenant_id, api_key_id, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))
         RETURNING expires_at AS "expiresAt"`,
        [tokenHash, tenant?.tenantId ?? null, tenant?.keyId ?? null, ttlSeconds],
      ),
    );
    return row!.expiresAt;
  }

  /**
   * Uses a link once: marks it used when it is unused and unexpired (one guarded UPDATE, so two
   * concurrent clicks cannot both win) and returns who it signs in, with the key's scopes —
   * null when the link is unknown, used, expired, or its key was revoked since.
   */
  async consumeLink(tokenHash: Buffer): Promise<{ owner: SessionOwner; scopes: ApiKeyScope[] } | null> {
    const [row] = queryRows<{ tenantId: string | null; keyId: string | null; scopes: ApiKeyScope[] | null }>(
      await this.dataSource.query(
        `WITH used AS (
           UPDATE console_sign_in_links SET used_at = now()
            WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
            RETURNING tenant_id, api_key_id
         )
         SELECT used.tenant_id AS "tenantId", used.api_key_id AS "keyId", k.scopes
           FROM used
           LEFT JOIN api_keys k ON k.tenant_id = used.tenant_id AND k.id = used.api_key_id AND k.revoked_at IS NULL`,
        [tokenHash],
      ),
    );
    if (!row) return null;
    if (row.tenantId === null || row.keyId === null) return { owner: { kind: 'platform' }, scopes: [] };
    if (row.scopes === null) return null;
    return { owner: { kind: 'tenant', tenantId: row.tenantId, keyId: row.keyId }, scopes: row.scopes };
  }

  /**
   * Drops a bounded batch of sessions and links past their absolute end (called on sign-in;
   * nothing reads them). Idle sessions are refused by the lookup and go at their absolute end.
   */
  async sweepExpired(): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM console_sessions WHERE token_hash IN (
         SELECT token_hash FROM console_sessions WHERE expires_at < now() LIMIT 100)`,
    );
    await this.dataSource.query(
      `DELETE FROM console_sign_in_links WHERE token_hash IN (
         SELECT token_hash FROM console_sign_in_links WHERE expires_at < now() LIMIT 100)`,
    );
  }
}
