import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  CredentialCipher,
  RECEIVER_DEDUPES_BY_KEY,
  SECRET_CONFIG_FIELDS,
  type ChannelName,
} from '@herald/channels';
import { queryRows } from '@herald/persistence';
import type { QuotaAccount } from '@herald/rate-limit';
import type { DataSource, EntityManager } from 'typeorm';

export interface SenderAccountRecord {
  tenantId: string;
  id: string;
  name: string;
  channel: ChannelName;
  /** The config without its secret fields: safe to return and log. */
  settings: Record<string, unknown>;
  quotas: { hourly: number | null; daily: number | null; weekly: number | null };
  timeZone: string;
  status: 'active' | 'paused' | 'disabled';
  /** Why account health paused it (null when active, or paused by hand). */
  pausedReason: string | null;
  /** What happens to a send a crash left unknown (the account's choice, else the channel's default). */
  deliveryGuarantee: DeliveryGuarantee;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * `at_least_once`: a send whose outcome a crash left unknown is sent again with the same key
 * (the receiver drops the repeat if it dedupes by key). `at_most_once`: it is held as `unknown`
 * until an operator resends or closes it.
 */
export const DELIVERY_GUARANTEES = ['at_most_once', 'at_least_once'] as const;
export type DeliveryGuarantee = (typeof DELIVERY_GUARANTEES)[number];

/** Where the receiver drops a repeat of a key, repeating is safe: at-least-once by default. */
export function defaultGuarantee(channel: ChannelName): DeliveryGuarantee {
  return RECEIVER_DEDUPES_BY_KEY[channel] ? 'at_least_once' : 'at_most_once';
}

/** An account as the delivery pipeline uses it: with its decrypted config. */
export interface SendingAccount extends SenderAccountRecord {
  config: Record<string, unknown>;
  quota: QuotaAccount;
}

interface Row {
  tenant_id: string;
  id: string;
  name: string;
  channel: ChannelName;
  settings: Record<string, unknown>;
  credentials: string;
  quota_hourly: number | null;
  quota_daily: number | null;
  quota_weekly: number | null;
  time_zone: string;
  status: SenderAccountRecord['status'];
  delivery_guarantee: DeliveryGuarantee | null;
  paused_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

const CACHE_MS = 5000;

/**
 * Sender accounts. The full channel config is sealed with AES-256-GCM (bound to the tenant and
 * account ids, so a sealed blob cannot be moved to another account); the non-secret fields are
 * kept in clear for display. Decrypted configs are cached briefly for the hot send path.
 */
@Injectable()
export class SenderAccountsRepository {
  private readonly cache = new Map<string, { account: SendingAccount; until: number }>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: CredentialCipher,
  ) {}

  /** Creates the account; pass `manager` to write in the caller's transaction. */
  async create(
    input: {
      tenantId: string;
      id: string;
      name: string;
      channel: ChannelName;
      config: Record<string, unknown>;
      quotas: SenderAccountRecord['quotas'];
      timeZone: string;
      /** Omitted: the channel's default. */
      deliveryGuarantee?: DeliveryGuarantee;
    },
    manager: Pick<EntityManager, 'query'> = this.dataSource,
  ): Promise<SenderAccountRecord> {
    const secretFields = SECRET_CONFIG_FIELDS[input.channel];
    const settings = Object.fromEntries(
      Object.entries(input.config).filter(([k]) => !secretFields.includes(k)),
    );
    const sealed = this.cipher.encryptJson(input.config, credentialsContext(input.tenantId, input.id));
    const rows = await manager.query<Row[]>(
      `INSERT INTO sender_accounts (tenant_id, id, name, channel, settings, credentials, quota_hourly, quota_daily, quota_weekly, time_zone, delivery_guarantee)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
      [
        input.tenantId,
        input.id,
        input.name,
        input.channel,
        JSON.stringify(settings),
        sealed,
        input.quotas.hourly,
        input.quotas.daily,
        input.quotas.weekly,
        input.timeZone,
        input.deliveryGuarantee ?? null,
      ],
    );
    return toRecord(rows[0]!);
  }

  async find(tenantId: string, id: string): Promise<SenderAccountRecord | undefined> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM sender_accounts WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Pause (the pipeline holds its deliveries, re-checking every minute) or resume an account.
   * `disabled` when the account is disabled (neither applies); undefined when not the tenant's.
   */
  async setPaused(
    tenantId: string,
    id: string,
    paused: boolean,
  ): Promise<SenderAccountRecord | 'disabled' | undefined> {
    const rows = await this.dataSource.query<Row[]>(
      `UPDATE sender_accounts SET status = CASE WHEN status = 'disabled' THEN status ELSE $3 END,
              -- A pause by hand, or a resume, replaces whatever account health said.
              paused_reason = CASE WHEN status = $3 OR status = 'disabled' THEN paused_reason ELSE NULL END,
              updated_at = CASE WHEN status = $3 OR status = 'disabled' THEN updated_at ELSE now() END
        WHERE tenant_id = $1 AND id = $2
        RETURNING *`,
      [tenantId, id, paused ? 'paused' : 'active'],
    );
    const row = queryRows<Row>(rows)[0];
    if (!row) return undefined;
    return row.status === 'disabled' ? 'disabled' : toRecord(row);
  }

  async list(
    tenantId: string,
    after: { createdAt: Date; id: string } | null,
    limit: number,
  ): Promise<SenderAccountRecord[]> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM sender_accounts WHERE tenant_id = $1
          AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
        ORDER BY created_at, id LIMIT $4`,
      [tenantId, after?.createdAt.toISOString() ?? null, after?.id ?? null, limit],
    );
    return rows.map(toRecord);
  }

  /** An account of any tenant, for the platform admin (who has no tenant). */
  async findInAnyTenant(id: string): Promise<SenderAccountRecord | undefined> {
    const rows = await this.dataSource.query<Row[]>(`SELECT * FROM sender_accounts WHERE id = $1 LIMIT 1`, [
      id,
    ]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Every account of the tenant as (channel, id): what its circuits are keyed by. */
  async channelsOf(tenantId: string): Promise<{ id: string; channel: ChannelName }[]> {
    return this.dataSource.query<{ id: string; channel: ChannelName }[]>(
      `SELECT id, channel FROM sender_accounts WHERE tenant_id = $1`,
      [tenantId],
    );
  }

  /** The account with its decrypted config, cached for a few seconds. */
  async forSending(tenantId: string, id: string, now = Date.now()): Promise<SendingAccount | undefined> {
    const cacheKey = `${tenantId}:${id}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > now) return hit.account;
    const rows = await this.dataSource.query<Row[]>(
      `SELECT * FROM sender_accounts WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
    );
    const row = rows[0];
    if (!row) return undefined;
    const record = toRecord(row);
    const account: SendingAccount = {
      ...record,
      config: JSON.parse(this.cipher.decrypt(row.credentials, credentialsContext(tenantId, id))) as Record<
        string,
        unknown
      >,
      quota: quotaAccountOf(record),
    };
    this.cache.set(cacheKey, { account, until: now + CACHE_MS });
    return account;
  }
}

/** The account as the quota counts it: its windows in its time zone (an absent limit is unlimited). */
export function quotaAccountOf(account: SenderAccountRecord): QuotaAccount {
  const { hourly, daily, weekly } = account.quotas;
  return {
    id: `${account.tenantId}:${account.id}`,
    timeZone: account.timeZone,
    limits: {
      ...(hourly !== null ? { hour: hourly } : {}),
      ...(daily !== null ? { day: daily } : {}),
      ...(weekly !== null ? { week: weekly } : {}),
    },
  };
}

/** What an account's sealed credentials are bound to, so a sealed blob cannot move to another account. */
export function credentialsContext(tenantId: string, accountId: string): string {
  return `sender_account:${tenantId}:${accountId}`;
}

function toRecord(row: Row): SenderAccountRecord {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    name: row.name,
    channel: row.channel,
    settings: row.settings,
    quotas: { hourly: row.quota_hourly, daily: row.quota_daily, weekly: row.quota_weekly },
    timeZone: row.time_zone,
    status: row.status,
    pausedReason: row.paused_reason ?? null,
    deliveryGuarantee: row.delivery_guarantee ?? defaultGuarantee(row.channel),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
