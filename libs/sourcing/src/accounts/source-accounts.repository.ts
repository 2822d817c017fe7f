import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { CredentialCipher } from '@herald/channels';
import {
  findTenantRow,
  givenColumns,
  queryRows,
  tenantRowsAfter,
  updateTenantRow,
  type KeysetPosition,
  type Queryable,
} from '@herald/persistence';
import type { QuotaAccount } from '@herald/rate-limit';
import type { DataSource } from 'typeorm';
import {
  SECRET_SOURCE_FIELDS,
  SOURCE_CONFIG_SCHEMAS,
  type SourceAccountRecord,
  type SourceAccountStatus,
  type SourceKind,
  type SourceQuotas,
  type UnsealedSourceAccount,
} from './source-account';

interface Row {
  tenant_id: string;
  id: string;
  name: string;
  kind: SourceKind;
  settings: Record<string, unknown>;
  credentials: string;
  quota_hourly: number | null;
  quota_daily: number | null;
  quota_weekly: number | null;
  time_zone: string;
  status: SourceAccountStatus;
  created_at: Date;
  updated_at: Date;
}

type Db = Queryable;

const CACHE_MS = 5000;

/**
 * Source accounts, stored as sender accounts are: the whole config sealed with AES-256-GCM
 * (bound to tenant and account, so a blob cannot move to another account), the non-secret
 * fields kept in clear for display. Unsealed configs are cached a few seconds for the run loop.
 */
@Injectable()
export class SourceAccountsRepository {
  private readonly cache = new Map<string, { account: UnsealedSourceAccount; until: number }>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: CredentialCipher,
  ) {}

  async create(
    input: {
      tenantId: string;
      id: string;
      name: string;
      kind: SourceKind;
      config: Record<string, unknown>;
      quotas: SourceQuotas;
      timeZone: string;
    },
    db: Db = this.dataSource,
  ): Promise<SourceAccountRecord> {
    const rows = await db.query<Row[]>(
      `INSERT INTO source_accounts (tenant_id, id, name, kind, settings, credentials, quota_hourly, quota_daily, quota_weekly, time_zone)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
      [
        input.tenantId,
        input.id,
        input.name,
        input.kind,
        JSON.stringify(publicSettings(input.kind, input.config)),
        this.cipher.encryptJson(input.config, sourceCredentialsContext(input.tenantId, input.id)),
        input.quotas.hourly,
        input.quotas.daily,
        input.quotas.weekly,
        input.timeZone,
      ],
    );
    return toRecord(rows[0]!);
  }

  /**
   * Changes name, quotas, zone and/or config (a new config replaces the old one whole, sealed
   * again). Undefined when the account is not the tenant's.
   */
  async update(
    tenantId: string,
    id: string,
    patch: {
      name?: string;
      config?: Record<string, unknown>;
      quotas?: Partial<SourceQuotas>;
      timeZone?: string;
    },
    db: Db = this.dataSource,
  ): Promise<SourceAccountRecord | undefined> {
    const current = await this.find(tenantId, id, db, true);
    if (!current) return undefined;
    const columns = givenColumns({
      name: patch.name,
      time_zone: patch.timeZone,
      quota_hourly: patch.quotas?.hourly,
      quota_daily: patch.quotas?.daily,
      quota_weekly: patch.quotas?.weekly,
      ...(patch.config === undefined
        ? {}
        : {
            settings: JSON.stringify(publicSettings(current.kind, patch.config)),
            credentials: this.cipher.encryptJson(patch.config, sourceCredentialsContext(tenantId, id)),
          }),
    });
    if (columns.length === 0) return current;
    const row = await updateTenantRow<Row>(db, 'source_accounts', tenantId, id, columns);
    this.cache.delete(`${tenantId}:${id}`);
    return row ? toRecord(row) : undefined;
  }

  async find(
    tenantId: string,
    id: string,
    db: Db = this.dataSource,
    forUpdate = false,
  ): Promise<SourceAccountRecord | undefined> {
    const row = await findTenantRow<Row>(db, 'source_accounts', tenantId, id, forUpdate);
    return row ? toRecord(row) : undefined;
  }

  async list(tenantId: string, after: KeysetPosition | null, limit: number): Promise<SourceAccountRecord[]> {
    const rows = await tenantRowsAfter<Row>(this.dataSource, 'source_accounts', tenantId, after, limit);
    return rows.map(toRecord);
  }

  /** Pause or resume; `disabled` when the account is disabled; undefined when not the tenant's. */
  async setPaused(
    tenantId: string,
    id: string,
    paused: boolean,
  ): Promise<SourceAccountRecord | 'disabled' | undefined> {
    const rows = queryRows<Row>(
      await this.dataSource.query(
        `UPDATE source_accounts SET status = CASE WHEN status = 'disabled' THEN status ELSE $3 END,
                updated_at = CASE WHEN status = $3 OR status = 'disabled' THEN updated_at ELSE now() END
          WHERE tenant_id = $1 AND id = $2
          RETURNING *`,
        [tenantId, id, paused ? 'paused' : 'active'],
      ),
    );
    const row = rows[0];
    if (!row) return undefined;
    this.cache.delete(`${tenantId}:${id}`);
    return row.status === 'disabled' ? 'disabled' : toRecord(row);
  }

  /** Deletes an account no job uses; `in_use` when a sourcing job (even archived) names it. */
  async delete(tenantId: string, id: string): Promise<'deleted' | 'in_use' | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const account = await this.find(tenantId, id, manager, true);
      if (!account) return undefined;
      const [used] = await manager.query<{ n: string }[]>(
        `SELECT count(*) AS n FROM sourcing_jobs WHERE tenant_id = $1 AND source_account_id = $2`,
        [tenantId, id],
      );
      if (Number(used?.n ?? 0) > 0) return 'in_use';
      await manager.query(`DELETE FROM source_accounts WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      this.cache.delete(`${tenantId}:${id}`);
      return 'deleted';
    });
  }

  /**
   * The account with its unsealed config (defaults applied), cached a few seconds. What a
   * connector (or the enrichment step) calls with; never log or return `config`.
   */
  async unsealed(tenantId: string, id: string, now = Date.now()): Promise<UnsealedSourceAccount | undefined> {
    const cacheKey = `${tenantId}:${id}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > now) return hit.account;
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM source_accounts WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    const row = rows[0];
    if (!row) return undefined;
    const raw = JSON.parse(
      this.cipher.decrypt(row.credentials, sourceCredentialsContext(tenantId, id)),
    ) as unknown;
    const account = {
      ...toRecord(row),
      config: SOURCE_CONFIG_SCHEMAS[row.kind].parse(raw),
    } as UnsealedSourceAccount;
    this.cache.set(cacheKey, { account, until: now + CACHE_MS });
    return account;
  }
}

/** The account as the quota engine counts it: its windows in its zone; an absent limit is unlimited. */
export function sourceQuotaAccount(
  account: Pick<SourceAccountRecord, 'tenantId' | 'id' | 'quotas' | 'timeZone'>,
): QuotaAccount {
  const { hourly, daily, weekly } = account.quotas;
  return {
    id: `source:${account.tenantId}:${account.id}`,
    timeZone: account.timeZone,
    limits: {
      ...(hourly !== null ? { hour: hourly } : {}),
      ...(daily !== null ? { day: daily } : {}),
      ...(weekly !== null ? { week: weekly } : {}),
    },
  };
}

/** What a sealed config is bound to. */
export function sourceCredentialsContext(tenantId: string, accountId: string): string {
  return `source_account:${tenantId}:${accountId}`;
}

function publicSettings(kind: SourceKind, config: Record<string, unknown>): Record<string, unknown> {
  const secret = SECRET_SOURCE_FIELDS[kind];
  return Object.fromEntries(Object.entries(config).filter(([k]) => !secret.includes(k)));
}

function toRecord(row: Row): SourceAccountRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    name: row.name,
    kind: row.kind,
    settings: row.settings,
    quotas: { hourly: row.quota_hourly, daily: row.quota_daily, weekly: row.quota_weekly },
    timeZone: row.time_zone,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
