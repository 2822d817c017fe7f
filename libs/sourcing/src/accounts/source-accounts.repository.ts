import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  CredentialCipher,
  SealedAccountTable,
  sealedAccountFields,
  withoutSecrets,
  type NewSealedAccount,
  type SealedAccountRow,
} from '@herald/channels';
import { givenColumns, updateTenantRow, type KeysetPosition, type Queryable } from '@herald/persistence';
import { quotaLimits, type QuotaAccount } from '@herald/rate-limit';
import type { DataSource } from 'typeorm';
import {
  SECRET_SOURCE_FIELDS,
  SOURCE_CONFIG_SCHEMAS,
  type SourceAccountRecord,
  type SourceKind,
  type SourceQuotas,
  type UnsealedSourceAccount,
} from './source-account';

interface Row extends SealedAccountRow {
  kind: SourceKind;
}

type Db = Queryable;

/**
 * Source accounts, stored as sender accounts are: the whole config sealed with AES-256-GCM
 * (bound to tenant and account, so a blob cannot move to another account), the non-secret
 * fields kept in clear for display. Unsealed configs are cached a few seconds for the run loop.
 */
@Injectable()
export class SourceAccountsRepository {
  private readonly table: SealedAccountTable<Row, UnsealedSourceAccount>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    cipher: CredentialCipher,
  ) {
    this.table = new SealedAccountTable<Row, UnsealedSourceAccount>(dataSource, cipher, {
      table: 'source_accounts',
      context: sourceCredentialsContext,
      // Defaults applied: what a connector reads is the config as its kind's schema completes it.
      unseal: (row, config) => ({ ...toRecord(row), config: SOURCE_CONFIG_SCHEMAS[row.kind].parse(config) }),
    });
  }

  async create(
    input: NewSealedAccount & { kind: SourceKind },
    db: Db = this.dataSource,
  ): Promise<SourceAccountRecord> {
    return toRecord(
      await this.table.insert(db, input, SECRET_SOURCE_FIELDS[input.kind], { kind: input.kind }),
    );
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
            credentials: this.table.seal(tenantId, id, patch.config),
          }),
    });
    if (columns.length === 0) return current;
    const row = await updateTenantRow<Row>(db, 'source_accounts', tenantId, id, columns);
    this.table.forget(tenantId, id);
    return row ? toRecord(row) : undefined;
  }

  async find(
    tenantId: string,
    id: string,
    db: Db = this.dataSource,
    forUpdate = false,
  ): Promise<SourceAccountRecord | undefined> {
    const row = await this.table.find(tenantId, id, db, forUpdate);
    return row ? toRecord(row) : undefined;
  }

  async list(tenantId: string, after: KeysetPosition | null, limit: number): Promise<SourceAccountRecord[]> {
    return (await this.table.list(tenantId, after, limit)).map(toRecord);
  }

  /** Pause or resume; `disabled` when the account is disabled; undefined when not the tenant's. */
  async setPaused(
    tenantId: string,
    id: string,
    paused: boolean,
  ): Promise<SourceAccountRecord | 'disabled' | undefined> {
    const row = await this.table.setPaused(tenantId, id, paused);
    return row === undefined || row === 'disabled' ? row : toRecord(row);
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
      this.table.forget(tenantId, id);
      return 'deleted';
    });
  }

  /** Every account of the tenant as (kind, id): what its circuits are keyed by. */
  async kindsOf(tenantId: string): Promise<{ id: string; kind: SourceKind }[]> {
    return this.dataSource.query<{ id: string; kind: SourceKind }[]>(
      `SELECT id, kind FROM source_accounts WHERE tenant_id = $1`,
      [tenantId],
    );
  }

  /** The account whichever tenant holds it: the platform forcing a circuit names only its id. */
  async findInAnyTenant(id: string): Promise<SourceAccountRecord | undefined> {
    const rows = await this.dataSource.query<Row[]>(`SELECT * FROM source_accounts WHERE id = $1 LIMIT 1`, [
      id,
    ]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * The account with its unsealed config (defaults applied), cached a few seconds. What a
   * connector (or the enrichment step) calls with; never log or return `config`.
   */
  unsealed(tenantId: string, id: string, now = Date.now()): Promise<UnsealedSourceAccount | undefined> {
    return this.table.unsealed(tenantId, id, now);
  }
}

/** The account as the quota engine counts it: its windows in its zone; an absent limit is unlimited. */
export function sourceQuotaAccount(
  account: Pick<SourceAccountRecord, 'tenantId' | 'id' | 'quotas' | 'timeZone'>,
): QuotaAccount {
  return {
    id: `source:${account.tenantId}:${account.id}`,
    timeZone: account.timeZone,
    limits: quotaLimits(account.quotas),
  };
}

/** What a sealed config is bound to. */
export function sourceCredentialsContext(tenantId: string, accountId: string): string {
  return `source_account:${tenantId}:${accountId}`;
}

function publicSettings(kind: SourceKind, config: Record<string, unknown>): Record<string, unknown> {
  return withoutSecrets(config, SECRET_SOURCE_FIELDS[kind]);
}

function toRecord(row: Row): SourceAccountRecord {
  return { ...sealedAccountFields(row), kind: row.kind };
}
