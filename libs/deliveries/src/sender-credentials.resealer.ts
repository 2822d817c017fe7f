import type { CredentialCipher } from '@herald/channels';
import { queryRows } from '@herald/persistence';
import type { DataSource } from 'typeorm';
import { credentialsContext } from './sender-accounts.repository';

export interface SenderAccountCursor {
  tenantId: string;
  id: string;
}

interface Row {
  tenant_id: string;
  id: string;
  credentials: string;
}

/**
 * Sender account credentials re-sealed with the current encryption key, for
 * `herald keys rotate-encryption` while the fleet runs. Each batch is one short transaction
 * that locks the rows it takes and skips those a writer holds (a later pass gets them), and
 * writes a row back only if its ciphertext is still the one it opened: a concurrent write is
 * never overwritten with stale data.
 */
export class SenderCredentialsResealer {
  readonly name = 'sender_credentials';

  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: CredentialCipher,
  ) {}

  get currentKeyId(): string {
    return this.cipher.currentKeyId;
  }

  /** Accounts by the key id their credentials record. */
  async census(): Promise<Record<string, number>> {
    const rows = await this.dataSource.query<{ key_id: string; n: number }[]>(
      `SELECT split_part(credentials, ':', 2) AS key_id, count(*)::int AS n FROM sender_accounts GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
  }

  /** Up to `limit` accounts after `after` (in key order) whose credentials another key sealed. */
  async resealBatch(
    after: SenderAccountCursor | null,
    limit: number,
  ): Promise<{ resealed: number; next: SenderAccountCursor | null }> {
    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const rows = await manager.query<Row[]>(
        `SELECT tenant_id, id, credentials FROM sender_accounts
          WHERE split_part(credentials, ':', 2) <> $1
            AND ($2::uuid IS NULL OR (tenant_id, id) > ($2::uuid, $3::uuid))
          ORDER BY tenant_id, id LIMIT $4
          FOR UPDATE SKIP LOCKED`,
        [this.currentKeyId, after?.tenantId ?? null, after?.id ?? null, limit],
      );
      const resealed: (Row & { sealed: string })[] = [];
      for (const row of rows) {
        const context = credentialsContext(row.tenant_id, row.id);
        try {
          resealed.push({
            ...row,
            sealed: this.cipher.encrypt(this.cipher.decrypt(row.credentials, context), context),
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
                `UPDATE sender_accounts s SET credentials = v.sealed
                   FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS v(tenant_id, id, old, sealed)
                  WHERE s.tenant_id = v.tenant_id AND s.id = v.id AND s.credentials = v.old
                  RETURNING s.id`,
                [
                  resealed.map((r) => r.tenant_id),
                  resealed.map((r) => r.id),
                  resealed.map((r) => r.credentials),
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
