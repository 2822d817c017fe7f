import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  CredentialCipher,
  RECEIVER_DEDUPES_BY_KEY,
  SealedAccountTable,
  sealedAccountFields,
  SECRET_CONFIG_FIELDS,
  type ChannelName,
  type NewSealedAccount,
  type SealedAccountFields,
  type SealedAccountRow,
} from '@herald/channels';
import type { KeysetPosition, Queryable } from '@herald/persistence';
import { quotaLimits, type QuotaAccount } from '@herald/rate-limit';
import type { DataSource } from 'typeorm';

/** `settings` is the config without its secret fields: safe to return and log. */
export interface SenderAccountRecord extends SealedAccountFields {
  channel: ChannelName;
  /** Why account health paused it (null when active, or paused by hand). */
  pausedReason: string | null;
  /** What happens to a send a crash left unknown (the account's choice, else the channel's default). */
  deliveryGuarantee: DeliveryGuarantee;
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

interface Row extends SealedAccountRow {
  channel: ChannelName;
  delivery_guarantee: DeliveryGuarantee | null;
  paused_reason: string | null;
}

/**
 * Sender accounts. The full channel config is sealed with AES-256-GCM (bound to the tenant and
 * account ids, so a sealed blob cannot be moved to another account); the non-secret fields are
 * kept in clear for display. Decrypted configs are cached briefly for the hot send path.
 */
@Injectable()
export class SenderAccountsRepository {
  private readonly table: SealedAccountTable<Row, SendingAccount>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    cipher: CredentialCipher,
  ) {
    this.table = new SealedAccountTable<Row, SendingAccount>(dataSource, cipher, {
      table: 'sender_accounts',
      context: credentialsContext,
      pausedReason: true,
      unseal: (row, config) => {
        const record = toRecord(row);
        return { ...record, config: config as Record<string, unknown>, quota: quotaAccountOf(record) };
      },
    });
  }

  /** Creates the account; pass `manager` to write in the caller's transaction. */
  async create(
    input: NewSealedAccount & {
      channel: ChannelName;
      /** Omitted: the channel's default. */
      deliveryGuarantee?: DeliveryGuarantee;
    },
    manager: Queryable = this.dataSource,
  ): Promise<SenderAccountRecord> {
    const row = await this.table.insert(manager, input, SECRET_CONFIG_FIELDS[input.channel], {
      channel: input.channel,
      delivery_guarantee: input.deliveryGuarantee ?? null,
    });
    return toRecord(row);
  }

  async find(tenantId: string, id: string): Promise<SenderAccountRecord | undefined> {
    const row = await this.table.find(tenantId, id);
    return row ? toRecord(row) : undefined;
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
    const row = await this.table.setPaused(tenantId, id, paused);
    return row === undefined || row === 'disabled' ? row : toRecord(row);
  }

  async list(tenantId: string, after: KeysetPosition | null, limit: number): Promise<SenderAccountRecord[]> {
    return (await this.table.list(tenantId, after, limit)).map(toRecord);
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
  forSending(tenantId: string, id: string, now = Date.now()): Promise<SendingAccount | undefined> {
    return this.table.unsealed(tenantId, id, now);
  }
}

/** The account as the quota counts it: its windows in its time zone (an absent limit is unlimited). */
export function quotaAccountOf(account: SenderAccountRecord): QuotaAccount {
  return {
    id: `${account.tenantId}:${account.id}`,
    timeZone: account.timeZone,
    limits: quotaLimits(account.quotas),
  };
}

/** What an account's sealed credentials are bound to, so a sealed blob cannot move to another account. */
export function credentialsContext(tenantId: string, accountId: string): string {
  return `sender_account:${tenantId}:${accountId}`;
}

function toRecord(row: Row): SenderAccountRecord {
  return {
    ...sealedAccountFields(row),
    channel: row.channel,
    pausedReason: row.paused_reason ?? null,
    deliveryGuarantee: row.delivery_guarantee ?? defaultGuarantee(row.channel),
  };
}
