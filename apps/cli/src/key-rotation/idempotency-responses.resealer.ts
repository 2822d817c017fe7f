import { ByteSealer, KEY_PURPOSES, type KeyRing } from '@herald/config';
import { queryRows } from '@herald/persistence';
import type { DataSource } from 'typeorm';
import { NO_KEY_ID } from './encryption-rotation';

interface Row {
  id: string;
  response_body: Buffer;
}

/**
 * Stored `Idempotency-Key` responses re-sealed with the current key. The api's IdempotencyService
 * seals and replays them (ByteSealer under KEY_PURPOSES.idempotencyResponses); expired ones are
 * never replayed, so they are neither counted nor re-sealed. A response being written or replayed
 * holds its row: the batch skips it and a later pass takes it.
 */
export class IdempotencyResponsesResealer {
  readonly name = 'idempotency_responses';
  readonly currentKeyId: string;
  private readonly sealer: ByteSealer;

  constructor(
    private readonly dataSource: DataSource,
    ring: KeyRing,
  ) {
    this.sealer = new ByteSealer(ring.derive(KEY_PURPOSES.idempotencyResponses));
    this.currentKeyId = ring.current.id;
  }

  /** Live responses by the key id they record (ByteSealer's layout: version 2, id length, id). */
  async census(): Promise<Record<string, number>> {
    const rows = await this.dataSource.query<{ key_id: string | null; n: number }[]>(
      `SELECT CASE get_byte(response_body, 0)
                WHEN 2 THEN encode(substring(response_body FROM 3 FOR get_byte(response_body, 1)), 'escape')
              END AS key_id,
              count(*)::int AS n
         FROM idempotency_keys
        WHERE expires_at > now() AND octet_length(response_body) > 1
        GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.key_id ?? NO_KEY_ID, r.n]));
  }

  async resealBatch(after: string | null, limit: number): Promise<{ resealed: number; next: string | null }> {
    const prefix = this.sealer.currentPrefix();
    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const rows = await manager.query<Row[]>(
        `SELECT id, response_body FROM idempotency_keys
          WHERE expires_at > now() AND octet_length(response_body) > 1
            AND substring(response_body FROM 1 FOR $1) <> $2
            AND ($3::bigint IS NULL OR id > $3::bigint)
          ORDER BY id LIMIT $4
          FOR UPDATE SKIP LOCKED`,
        [prefix.length, prefix, after, limit],
      );
      const resealed: (Row & { sealed: Buffer })[] = [];
      for (const row of rows) {
        try {
          resealed.push({ ...row, sealed: this.sealer.seal(this.sealer.open(row.response_body)) });
        } catch {
          // A key the ring no longer holds, or a damaged value: left as it is, still counted as remaining.
        }
      }
      const written =
        resealed.length === 0
          ? []
          : queryRows(
              await manager.query(
                `UPDATE idempotency_keys k SET response_body = v.sealed
                   FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS v(id, old, sealed)
                  WHERE k.id = v.id AND k.response_body = v.old
                  RETURNING k.id`,
                [
                  resealed.map((r) => r.id),
                  resealed.map((r) => r.response_body),
                  resealed.map((r) => r.sealed),
                ],
              ),
            );
      const last = rows.at(-1);
      return {
        resealed: written.length,
        next: rows.length === limit && last ? last.id : null,
      };
    });
  }
}
