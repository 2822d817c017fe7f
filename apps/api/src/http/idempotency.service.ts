import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ByteSealer, HERALD_CONFIG, KEY_PURPOSES, type HeraldConfig } from '@herald/config';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { canonicalJson } from './canonical-json';
import { ProblemException } from './problem';

export interface StoredResponse<T> {
  status: number;
  body: T;
}

/** A request whose body is read before its transaction (see `runStreamed`). */
export interface StreamedWork<T, P extends { fingerprint: string }> {
  /**
   * Reads the body until it has wholly arrived (so its fingerprint is known) and prepares the
   * work, outside any transaction; what is left unparsed, `write` reads.
   */
  read(): Promise<P>;
  /** Reads the body only to hash it, for a key that was answered before. */
  fingerprintOnly(): Promise<string>;
  /** The work itself, in the transaction that records the response. */
  write(manager: EntityManager, prepared: P): Promise<StoredResponse<T>>;
  /** Undoes what `read` prepared (after the transaction, committed or not). */
  release(prepared: P): Promise<void>;
}

/** Visible ASCII, 1..255 characters (UUIDs, ULIDs, anything a client generates). */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

type Claim =
  | { kind: 'fresh'; rowId: string | null }
  | { kind: 'existing'; fingerprint: string; status: number; body: Buffer };

/**
 * `Idempotency-Key` for POSTs that create. The key row is inserted in the same transaction as
 * the work and updated with the response before commit, so the work and its recorded response
 * commit together or not at all. A concurrent duplicate blocks on the unique index until the
 * first commits, then replays its response (or runs, if the first rolled back): no polling.
 * Same key, different request → 422. Failed requests store nothing. Keys expire after
 * IDEMPOTENCY_TTL_SECONDS. Stored bodies are sealed (AES-256-GCM, under the encryption key ring,
 * recording the key's id): they may hold a new API key. `herald keys rotate-encryption` re-seals
 * them when the key rotates.
 */
@Injectable()
export class IdempotencyService {
  private readonly sealer: ByteSealer;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {
    this.sealer = new ByteSealer(config.security.encryptionKeys.derive(KEY_PURPOSES.idempotencyResponses));
  }

  /** The request's Idempotency-Key, or undefined; 400 when present but unusable. */
  keyOf(req: Request): string | undefined {
    const raw = req.headers['idempotency-key'];
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string' || !KEY_PATTERN.test(raw)) {
      throw ProblemException.of('validation-failed', 'The Idempotency-Key header is malformed.', [
        { field: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' },
      ]);
    }
    return raw;
  }

  /**
   * Runs `work` in a transaction. With a key: replays the stored response of an earlier identical
   * request instead, or answers 422 when the key was used for a different request.
   */
  async run<T>(
    req: Request,
    res: Response,
    tenantId: string | null,
    work: (manager: EntityManager) => Promise<StoredResponse<T>>,
  ): Promise<T> {
    const key = this.keyOf(req);
    const fingerprint = requestFingerprint(req);
    const outcome = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const claim =
        key === undefined
          ? ({ kind: 'fresh', rowId: null } as const)
          : await this.claim(manager, tenantId, key, fingerprint);
      if (claim.kind === 'existing') return claim;
      const result = await work(manager);
      if (claim.rowId !== null) await this.record(manager, claim.rowId, fingerprint, result);
      return { kind: 'done' as const, result };
    });
    if (outcome.kind === 'done') {
      res.status(outcome.result.status);
      return outcome.result.body;
    }
    return this.replay<T>(res, outcome, fingerprint);
  }

  /**
   * For a streamed body, whose fingerprint is known only once it has been read. No transaction
   * starts before the body has wholly arrived (`read`, which may prepare work from it, e.g. staged
   * rows), so a slow client holds no pooled connection; then one transaction claims the key, runs
   * `write` and records the response. `release` undoes what `read` prepared, whatever the outcome. A key that
   * was already answered is seen first: then the body is only hashed (`fingerprintOnly`) to tell a
   * replay from a reuse (422).
   */
  async runStreamed<T, P extends { fingerprint: string }>(
    req: Request,
    res: Response,
    tenantId: string,
    work: StreamedWork<T, P>,
  ): Promise<T> {
    const key = this.keyOf(req);
    if (key !== undefined) {
      const answered = await this.answered(tenantId, key);
      if (answered) return this.replay<T>(res, answered, await work.fingerprintOnly());
    }
    const prepared = await work.read();
    try {
      const outcome = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
        const claim =
          key === undefined
            ? ({ kind: 'fresh', rowId: null } as const)
            : await this.claim(manager, tenantId, key, prepared.fingerprint);
        if (claim.kind === 'existing') return claim;
        const result = await work.write(manager, prepared);
        if (claim.rowId !== null) await this.record(manager, claim.rowId, prepared.fingerprint, result);
        return { kind: 'done' as const, result };
      });
      if (outcome.kind === 'done') {
        res.status(outcome.result.status);
        return outcome.result.body;
      }
      return this.replay<T>(res, outcome, prepared.fingerprint);
    } finally {
      await work.release(prepared);
    }
  }

  /** The stored response of a key this tenant already used (and that has not expired), if any. */
  private async answered(
    tenantId: string,
    key: string,
  ): Promise<Extract<Claim, { kind: 'existing' }> | undefined> {
    const rows = await this.dataSource.query<
      { fingerprint: string; response_status: number; response_body: Buffer }[]
    >(
      `SELECT fingerprint, response_status, response_body FROM idempotency_keys
       WHERE tenant_id = $1 AND key = $2 AND expires_at > now()`,
      [tenantId, key],
    );
    const row = rows[0];
    return row
      ? {
          kind: 'existing',
          fingerprint: row.fingerprint,
          status: row.response_status,
          body: row.response_body,
        }
      : undefined;
  }

  private async claim(
    manager: EntityManager,
    tenantId: string | null,
    key: string,
    fingerprint: string,
  ): Promise<Claim> {
    const ttl = this.config.api.idempotencyTtlSeconds;
    // Takes the key when it is new or expired; blocks while another transaction holds it uncommitted.
    const inserted = await manager.query<{ id: string }[]>(
      `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response_status, response_body, expires_at)
       VALUES ($1, $2, $3, 0, '\\x', now() + make_interval(secs => $4))
       ON CONFLICT (tenant_id, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, response_status = 0, response_body = '\\x',
             created_at = now(), expires_at = EXCLUDED.expires_at
         WHERE idempotency_keys.expires_at <= now()
       RETURNING id`,
      [tenantId, key, fingerprint, ttl],
    );
    if (inserted[0]) return { kind: 'fresh', rowId: inserted[0].id };
    const rows = await manager.query<
      { fingerprint: string; response_status: number; response_body: Buffer }[]
    >(
      tenantId === null
        ? `SELECT fingerprint, response_status, response_body FROM idempotency_keys WHERE tenant_id IS NULL AND key = $1`
        : `SELECT fingerprint, response_status, response_body FROM idempotency_keys WHERE tenant_id = $2 AND key = $1`,
      tenantId === null ? [key] : [key, tenantId],
    );
    const row = rows[0];
    if (!row) throw new Error('idempotency key vanished between insert and select');
    return {
      kind: 'existing',
      fingerprint: row.fingerprint,
      status: row.response_status,
      body: row.response_body,
    };
  }

  private async record(
    manager: EntityManager,
    rowId: string,
    fingerprint: string,
    result: StoredResponse<unknown>,
  ): Promise<void> {
    await manager.query(
      `UPDATE idempotency_keys SET fingerprint = $2, response_status = $3, response_body = $4 WHERE id = $1`,
      [rowId, fingerprint, result.status, this.sealer.seal(JSON.stringify(result.body))],
    );
  }

  private replay<T>(res: Response, stored: Extract<Claim, { kind: 'existing' }>, fingerprint: string): T {
    if (stored.fingerprint !== fingerprint) {
      throw ProblemException.of(
        'idempotency-key-reused',
        'This Idempotency-Key was used for a different request; use a new key for a new request.',
        [{ field: 'Idempotency-Key', message: 'was used with a different request body' }],
      );
    }
    let body: T;
    try {
      body = JSON.parse(this.sealer.open(stored.body).toString('utf8')) as T;
    } catch {
      throw ProblemException.of(
        'conflict',
        'The response stored for this Idempotency-Key cannot be read; use a new key.',
      );
    }
    res.setHeader('Idempotent-Replayed', 'true');
    res.status(stored.status);
    return body;
  }
}

/** Method, path (with query) and the body as canonical JSON (key order does not matter). */
export function requestFingerprint(req: Request): string {
  return createHash('sha256')
    .update(`${req.method} ${req.originalUrl}\n`)
    .update(canonicalJson(req.body))
    .digest('hex');
}
