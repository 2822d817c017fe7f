import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { CredentialCipher } from '@herald/channels';
import { queryRows } from '@herald/persistence';
import type { DataSource } from 'typeorm';
import { ProviderNotConfiguredError } from './provider-errors';
import type { ProviderName } from './provider-event';
import {
  webhookVerificationSchema,
  type VerificationOf,
  type WebhookVerification,
} from './webhook-verification';

const CACHE_MS = 5000;
const CACHE_MAX = 10_000;

/** The account a provider event is for, with what verifies it. */
export interface WebhookAccount<P extends ProviderName = ProviderName> {
  tenantId: string;
  accountId: string;
  verification: VerificationOf<P>;
}

/** What a sealed blob is bound to, so it cannot be moved to another account. */
export function webhookContext(tenantId: string, accountId: string): string {
  return `provider_webhook:${tenantId}:${accountId}`;
}

/**
 * Each sender account's provider webhook verification, sealed (AES-256-GCM, bound to the tenant
 * and account) in `sender_accounts.provider_webhook`; which provider it is for is kept in clear.
 * Lookups by account id alone (a provider names only the account) are cached a few seconds.
 */
@Injectable()
export class ProviderWebhooksRepository {
  private readonly cache = new Map<string, { account: WebhookAccount | null; until: number }>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: CredentialCipher,
  ) {}

  /** Sets (or replaces) the account's verification; false when the account is not the tenant's. */
  async set(tenantId: string, accountId: string, verification: WebhookVerification): Promise<boolean> {
    const rows = queryRows<{ id: string }>(
      await this.dataSource.query(
        `UPDATE sender_accounts SET provider_webhook = $3, provider_webhook_provider = $4, updated_at = now()
          WHERE tenant_id = $1 AND id = $2 RETURNING id`,
        [
          tenantId,
          accountId,
          this.cipher.encryptJson(verification, webhookContext(tenantId, accountId)),
          verification.provider,
        ],
      ),
    );
    this.cache.delete(accountId);
    return rows.length > 0;
  }

  /** Removes the account's verification (its provider events are then refused); false when not the tenant's. */
  async clear(tenantId: string, accountId: string): Promise<boolean> {
    const rows = queryRows<{ id: string }>(
      await this.dataSource.query(
        `UPDATE sender_accounts SET provider_webhook = NULL, provider_webhook_provider = NULL, updated_at = now()
          WHERE tenant_id = $1 AND id = $2 RETURNING id`,
        [tenantId, accountId],
      ),
    );
    this.cache.delete(accountId);
    return rows.length > 0;
  }

  /** Which provider the account's webhook is set up for (undefined: none); null when not the tenant's. */
  async providerOf(tenantId: string, accountId: string): Promise<ProviderName | undefined | null> {
    const [row] = await this.dataSource.query<{ provider: ProviderName | null }[]>(
      `SELECT provider_webhook_provider AS provider FROM sender_accounts WHERE tenant_id = $1 AND id = $2`,
      [tenantId, accountId],
    );
    if (!row) return null;
    return row.provider ?? undefined;
  }

  /** The account and its verification for `provider`; ProviderNotConfiguredError otherwise (unknown account included). */
  async forEvent<P extends ProviderName>(
    accountId: string,
    provider: P,
    now = Date.now(),
  ): Promise<WebhookAccount<P>> {
    const hit = this.cache.get(accountId);
    let account: WebhookAccount | null;
    if (hit && hit.until > now) account = hit.account;
    else {
      account = await this.load(accountId);
      if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(accountId, { account, until: now + CACHE_MS });
    }
    if (!account || account.verification.provider !== provider) throw new ProviderNotConfiguredError();
    // The provider was just checked: the verification is P's.
    return account as unknown as WebhookAccount<P>;
  }

  private async load(accountId: string): Promise<WebhookAccount | null> {
    const [row] = await this.dataSource.query<
      { tenant_id: string; id: string; provider_webhook: string | null }[]
    >(
      `SELECT tenant_id, id, provider_webhook FROM sender_accounts
        WHERE id = $1 AND provider_webhook IS NOT NULL AND status <> 'disabled' LIMIT 1`,
      [accountId],
    );
    if (!row?.provider_webhook) return null;
    const verification = webhookVerificationSchema.parse(
      this.cipher.decryptJson(row.provider_webhook, webhookContext(row.tenant_id, row.id)),
    );
    return { tenantId: row.tenant_id, accountId: row.id, verification };
  }
}
