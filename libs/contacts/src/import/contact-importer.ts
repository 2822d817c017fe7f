import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { contactCreateSchema, toChanges, type ContactChanges } from '../contact-fields';
import { uuidv7 } from '../ids';
import { validate } from '../validation';
import { contactLine, copyContacts, writeChunk, type ChunkSource } from './chunk-writer';
import type { RawImportRow } from './import-row';
import { fieldMask, ImportStaging, type StagedIdentity, type ValidRow } from './import-staging';
import { reporter, type ImportSummary, type Report } from './import-summary';

export { MAX_REPORTED_ERRORS, type ImportSummary } from './import-summary';

/**
 * An import read up to the point where its body had wholly arrived (or to its end): the rows read
 * before are staged, the rest is still to be read, in the transaction, by `merge`.
 */
export interface StagedImport {
  readonly staging: ImportStaging;
  /** What validation refused so far; the merge adds the rows it refuses and its counts. */
  readonly summary: ImportSummary;
  /** Valid rows read but not staged (fewer than a chunk). */
  readonly pending: ValidRow[];
  /** The rows not read yet (none when `done`). */
  readonly rest: AsyncIterator<RawImportRow>;
  readonly done: boolean;
}

/** Rows per database round trip. */
const CHUNK_ROWS = 5000;
const YIELD_EVERY_ROWS = 100;

/**
 * Bulk upsert by email / external_ref. No transaction (nor pooled connection) waits on the client
 * while the body arrives:
 *  1. `stage`: rows are read and validated one by one as the body streams (a bad row is reported
 *     and skipped, never the batch) and staged CHUNK_ROWS at a time, each chunk by one COPY on a
 *     connection taken for it alone, while the next chunk is read. This lasts until the body has
 *     wholly arrived (read ahead of the parser, it usually has long before it is parsed);
 *  2. `merge`, in the caller's transaction: the staged chunks, then the rest of the body read and
 *     validated while the previous chunk is written. Per chunk: one lookup of its emails and
 *     external_refs, new contacts inserted (from their staged rows, inside Postgres, or by COPY),
 *     one UPDATE … FROM for the existing ones.
 * The import is atomic: nothing reaches contacts unless the merge commits, and `discard` removes
 * the staged rows whatever happened. Within a body, later rows win: a row that names a contact an
 * earlier row created updates it. A field a row does not give keeps its stored value; attributes
 * merge key by key (null removes one).
 */
@Injectable()
export class ContactImporter {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Reads, validates and stages rows until the body has wholly `arrived` (or the rows end). On a
   * failure (a bad body, a client gone) it leaves nothing staged.
   */
  async stage(rows: AsyncIterable<RawImportRow>, arrived: () => boolean): Promise<StagedImport> {
    const staging = new ImportStaging(this.dataSource);
    const summary: ImportSummary = { created: 0, updated: 0, failed: 0, errors: [], errorsTruncated: false };
    const report = reporter(summary);
    const rest = rows[Symbol.asyncIterator]();
    let pending: ValidRow[] = [];
    let inflight: Promise<void> = Promise.resolve();
    let failure: { error: unknown } | undefined;
    let done = false;
    try {
      let sinceYield = 0;
      while (!arrived()) {
        // Buffered rows arrive as microtasks, which starve I/O: yield now and then so the chunk
        // being staged gets its database replies without waiting for the whole buffer.
        if (++sinceYield >= YIELD_EVERY_ROWS) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const next = await rest.next();
        if (next.done) {
          done = true;
          break;
        }
        const valid = validRow(next.value, report);
        if (!valid) continue;
        pending.push(valid);
        if (pending.length < CHUNK_ROWS) continue;
        await inflight;
        if (failure) throw failure.error;
        const chunk = pending;
        pending = [];
        // Staged while the loop reads and validates the next chunk; awaited before the one after.
        inflight = staging.write(chunk).catch((error: unknown) => {
          failure = { error };
        });
      }
      await inflight;
      if (failure) throw failure.error;
    } catch (error) {
      await inflight;
      await staging.discard();
      if (!done) await rest.return?.().catch(() => undefined);
      throw error;
    }
    return { staging, summary, pending, rest, done };
  }

  /**
   * Writes the import into contacts, in the caller's transaction: the staged chunks, then the rows
   * not read yet. The summary of the whole import.
   */
  async merge(manager: EntityManager, tenantId: string, staged: StagedImport): Promise<ImportSummary> {
    const summary = { ...staged.summary, errors: [...staged.summary.errors] };
    const report = reporter(summary);
    const { staging } = staged;
    for (let chunk = 0; chunk < staging.chunks; chunk++) {
      const rows = await staging.identities(manager, chunk);
      const source: ChunkSource = {
        changes: (m, numbers) => staging.changes(m, chunk, numbers),
        insertNew: (m, tenant, identities) =>
          staging.insertContacts(
            m,
            tenant,
            chunk,
            identities.map((r) => r.row),
          ),
      };
      await writeChunk(manager, tenantId, source, rows, summary, report);
    }

    let pending = staged.pending;
    let inflight: Promise<void> = Promise.resolve();
    let failure: { error: unknown } | undefined;
    const flush = async () => {
      const { identities, source } = this.memoryChunk(tenantId, pending);
      pending = [];
      await inflight;
      if (failure) throw failure.error;
      // Written while the loop reads and validates the next chunk; awaited before the one after.
      inflight = writeChunk(manager, tenantId, source, identities, summary, report).catch(
        (error: unknown) => {
          failure = { error };
        },
      );
    };
    try {
      let sinceYield = 0;
      while (!staged.done) {
        if (++sinceYield >= YIELD_EVERY_ROWS) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const next = await staged.rest.next();
        if (next.done) break;
        const valid = validRow(next.value, report);
        if (!valid) continue;
        pending.push(valid);
        if (pending.length >= CHUNK_ROWS) await flush();
      }
      await flush();
    } finally {
      // A body that turns out bad fails the import, but only once the write under way has settled.
      await inflight;
    }
    if (failure) throw failure.error;
    summary.errors.sort((a, b) => a.row - b.row);
    return summary;
  }

  /** Removes what `stage` staged and stops reading (after the merge committed or failed). Never throws. */
  async discard(staged: StagedImport): Promise<void> {
    await staged.staging.discard();
    await staged.rest.return?.().catch(() => undefined);
  }

  /**
   * A chunk read inside the transaction, made ready to write before it waits for its turn: its
   * rows' ids and their COPY lines (as new contacts) are built while the chunk before is written,
   * so the database does not wait on them.
   */
  private memoryChunk(
    tenantId: string,
    chunk: ValidRow[],
  ): { identities: StagedIdentity[]; source: ChunkSource } {
    const archivedAt = new Date().toISOString();
    const byRow = new Map<number, { changes: ContactChanges; line: string }>();
    const identities: StagedIdentity[] = [];
    for (const { row, changes } of chunk) {
      const id = uuidv7();
      const email = changes.email ?? null;
      const externalRef = changes.externalRef ?? null;
      identities.push({ row, id, mask: fieldMask(changes), email, externalRef });
      byRow.set(row, { changes, line: contactLine(tenantId, id, email, externalRef, changes, archivedAt) });
    }
    const source: ChunkSource = {
      changes: (_m, rows) => Promise.resolve(new Map(rows.map((r) => [r, byRow.get(r)!.changes]))),
      insertNew: async (m, _tenant, rows) => {
        await copyContacts(
          m,
          rows.map((r) => byRow.get(r.row)!.line),
        );
      },
    };
    return { identities, source };
  }
}

/** A row that passes validation, or undefined (then it has been reported). */
function validRow(raw: RawImportRow, report: Report): ValidRow | undefined {
  if (raw.error) {
    report(raw.row, raw.error.field, raw.error.message);
    return undefined;
  }
  if (typeof raw.value !== 'object' || raw.value === null || Array.isArray(raw.value)) {
    report(raw.row, '', 'must be a JSON object');
    return undefined;
  }
  const result = validate(contactCreateSchema, raw.value);
  if (!result.ok) {
    report(raw.row, result.errors[0]!.field, result.errors[0]!.message);
    for (const error of result.errors.slice(1)) report(raw.row, error.field, error.message, false);
    return undefined;
  }
  return { row: raw.row, changes: toChanges(result.value) };
}
