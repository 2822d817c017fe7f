import {
  findTenantRow,
  queryRows,
  tenantRowsAfter,
  type KeysetPosition,
  type Queryable,
} from '@herald/persistence';
import type { DataSource } from 'typeorm';
import type { CredentialCipher } from './credentials';

export type AccountStatus = 'active' | 'paused' | 'disabled';

/** Units per window; null: unlimited. */
export interface AccountQuotas {
  hourly: number | null;
  daily: number | null;
  weekly: number | null;
}

/** The columns every table of accounts with sealed credentials has (sender_accounts, source_accounts). */
export interface SealedAccountRow {
  tenant_id: string;
  id: string;
  name: string;
  /** The config without its secret fields. */
  settings: Record<string, unknown>;
  /** The whole config, sealed by CredentialCipher. */
  credentials: string;
  quota_hourly: number | null;
  quota_daily: number | null;
  quota_weekly: number | null;
  time_zone: string;
  status: AccountStatus;
  created_at: Date;
  updated_at: Date;
}

/** What every such account shows: safe to return and log. */
export interface SealedAccountFields {
  tenantId: string;
  id: string;
  name: string;
  /** The config without its secret fields. */
  settings: Record<string, unknown>;
  quotas: AccountQuotas;
  timeZone: string;
  status: AccountStatus;
  createdAt: Date;
  updatedAt: Date;
}

export function sealedAccountFields(row: SealedAccountRow): SealedAccountFields {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    name: row.name,
    settings: row.settings,
    quotas: { hourly: row.quota_hourly, daily: row.quota_daily, weekly: row.quota_weekly },
    timeZone: row.time_zone,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The config without its secret fields: what is kept in clear, shown and logged. */
export function withoutSecrets(
  config: Record<string, unknown>,
  secretFields: readonly string[],
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => !secretFields.includes(k)));
}

export interface SealedAccountTableSpec<Row extends SealedAccountRow, Unsealed> {
  /** A code constant, never input: it is written into the SQL. */
  table: string;
  /** What a sealed config is bound to (tenant and account), so a blob cannot move to another account. */
  context: (tenantId: string, id: string) => string;
  /** The table keeps why account health paused an account: a pause by hand, or a resume, clears it. */
  pausedReason?: boolean;
  /** The account a hot path works with, from its row and its unsealed config. */
  unseal: (row: Row, config: unknown) => Unsealed;
}

/** What every new account is made of; the table's own columns (channel, kind…) come apart. */
export interface NewSealedAccount {
  tenantId: string;
  id: string;
  name: string;
  config: Record<string, unknown>;
  quotas: AccountQuotas;
  timeZone: string;
}

const CACHE_MS = 5000;

/**
 * A table of accounts whose whole config is sealed with AES-256-GCM (bound to tenant and account)
 * while its non-secret fields are kept in clear for display: the reads, pause and resume, and the
 * unsealed account cached a few seconds for the hot path that sends or fetches with it.
 */
export class SealedAccountTable<Row extends SealedAccountRow, Unsealed> {
  private readonly cache = new Map<string, { account: Unsealed; until: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: CredentialCipher,
    private readonly spec: SealedAccountTableSpec<Row, Unsealed>,
  ) {}

  /** The `credentials` value of a config. */
  seal(tenantId: string, id: string, config: Record<string, unknown>): string {
    return this.cipher.encryptJson(config, this.spec.context(tenantId, id));
  }

  /**
   * Inserts an account, its whole config sealed and the rest of it in clear in `settings`;
   * `columns` are the table's own (a code constant's names, never input). Pass the caller's
   * manager to write in its transaction.
   */
  async insert(
    db: Queryable,
    account: NewSealedAccount,
    secretFields: readonly string[],
    columns: Record<string, unknown>,
  ): Promise<Row> {
    const values: Record<string, unknown> = {
      tenant_id: account.tenantId,
      id: account.id,
      name: account.name,
      settings: JSON.stringify(withoutSecrets(account.config, secretFields)),
      credentials: this.seal(account.tenantId, account.id, account.config),
      quota_hourly: account.quotas.hourly,
      quota_daily: account.quotas.daily,
      quota_weekly: account.quotas.weekly,
      time_zone: account.timeZone,
      ...columns,
    };
    const names = Object.keys(values);
    const rows = await db.query<Row[]>(
      `INSERT INTO ${this.spec.table} (${names.join(', ')})
       VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
      Object.values(values),
    );
    return rows[0]!;
  }

  find(
    tenantId: string,
    id: string,
    db: Queryable = this.dataSource,
    forUpdate = false,
  ): Promise<Row | undefined> {
    return findTenantRow<Row>(db, this.spec.table, tenantId, id, forUpdate);
  }

  list(tenantId: string, after: KeysetPosition | null, limit: number): Promise<Row[]> {
    return tenantRowsAfter<Row>(this.dataSource, this.spec.table, tenantId, after, limit);
  }

  /** Pause or resume; `disabled` when the account is disabled (neither applies); undefined when not the tenant's. */
  async setPaused(tenantId: string, id: string, paused: boolean): Promise<Row | 'disabled' | undefined> {
    const unchanged = `status = $3 OR status = 'disabled'`;
    const rows = queryRows<Row>(
      await this.dataSource.query(
        `UPDATE ${this.spec.table} SET status = CASE WHEN status = 'disabled' THEN status ELSE $3 END,
                ${this.spec.pausedReason ? `paused_reason = CASE WHEN ${unchanged} THEN paused_reason ELSE NULL END,` : ''}
                updated_at = CASE WHEN ${unchanged} THEN updated_at ELSE now() END
          WHERE tenant_id = $1 AND id = $2
          RETURNING *`,
        [tenantId, id, paused ? 'paused' : 'active'],
      ),
    );
    const row = rows[0];
    if (!row) return undefined;
    this.forget(tenantId, id);
    return row.status === 'disabled' ? 'disabled' : row;
  }

  /** The account with its unsealed config, cached a few seconds; never log or return its config. */
  async unsealed(tenantId: string, id: string, now = Date.now()): Promise<Unsealed | undefined> {
    const cacheKey = `${tenantId}:${id}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > now) return hit.account;
    const row = await this.find(tenantId, id);
    if (!row) return undefined;
    const account = this.spec.unseal(
      row,
      this.cipher.decryptJson(row.credentials, this.spec.context(tenantId, id)),
    );
    this.cache.set(cacheKey, { account, until: now + CACHE_MS });
    return account;
  }

  /** Drops this process's cached copy after a change (other processes' expire within seconds). */
  forget(tenantId: string, id: string): void {
    this.cache.delete(`${tenantId}:${id}`);
  }
}
