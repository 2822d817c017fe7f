import type { CredentialCipher } from '@herald/channels';
import { queryRows } from '@herald/persistence';
import type { DataSource } from 'typeorm';
import { webhookContext } from './provider-webhooks.repository';

export interface ProviderWebhookCursor {
  tenantId: string;
  id: string;
}

interface Row {
  tenant_id: string;
  id: string;
  provider_webhook: string;
}

/**
 * Sender accounts' provider webhook verification (`sender_accounts.provider_webhook`) re-sealed
 * with the current encryption key, for `herald keys rotate-encryption`: like the credentials
 * beside it, a short transaction per batch that skips rows a writer holds and writes a value
 * back only if it is still the one it opened.
 */
export class ProviderWebhookResealer {
  readonly name = 'provider_webhooks';

  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: CredentialCipher,
  ) {}

  get currentKeyId(): string {
    return this.cipher.currentKeyId;
  }

  async census(): Promise<Record<string, number>> {
    const rows = await this.dataSource.query<{ key_id: string; n: number }[]>(
      `SELECT split_part(provider_webhook, ':', 2) AS key_id, count(*)::int AS n FROM sender_accounts
        WHERE provider_webhook IS NOT NULL GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
  }

  async resealBatch(
    after: ProviderWebhookCursor | null,
    limit: number,
  ): Promise<{ resealed: number; next: ProviderWebhookCursor | null }> {
    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const rows = await manager.query<Row[]>(
        `SELECT tenant_id, id, provider_webhook FROM sender_accounts
          WHERE provider_webhook IS NOT NULL AND split_part(provider_webhook, ':', 2) <> $1
            AND ($2::uuid IS NULL OR (tenant_id, id) > ($2::uuid, $3::uuid))
          ORDER BY tenant_id, id LIMIT $4
          FOR UPDATE SKIP LOCKED`,
        [this.currentKeyId, after?.tenantId ?? null, after?.id ?? null, limit],
      );
      const resealed: (Row & { sealed: string })[] = [];
      for (const row of rows) {
        const context = webhookContext(row.tenant_id, row.id);
        try {
          resealed.push({
            ...row,
            sealed: this.cipher.encrypt(this.cipher.decrypt(row.provider_webhook, context), context),
          });
        } catch {
          // A key the ring no longer holds, or a damaged value: left as it is, still counted as remaining.
        }
      }
      const written =
        resealed.length === 0
          ? []
          : queryRows(
              await manager.query(
                `UPDATE sender_accounts s SET provider_webhook = v.sealed
                   FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS v(tenant_id, id, old, sealed)
                  WHERE s.tenant_id = v.tenant_id AND s.id = v.id AND s.provider_webhook = v.old
                  RETURNING s.id`,
                [
                  resealed.map((r) => r.tenant_id),
                  resealed.map((r) => r.id),
                  resealed.map((r) => r.provider_webhook),
                  resealed.map((r) => r.sealed),
                ],
              ),
            );
      const last = rows.at(-1);
      return {
        resealed: written.length,
        next: rows.length === limit && last ? { tenantId: last.tenant_id, id: last.id } : null,
      };
    });
  }
}
