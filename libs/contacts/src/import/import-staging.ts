import type { DataSource, EntityManager } from 'typeorm';
import type { ContactChanges } from '../contact-fields';
import { uuidv7, uuidv7Floor, uuidv7Time } from '../ids';
import { arrayLiteral, copyIn, copyText, isoAt } from './copy-in';

/** Which fields a row gave (a field given as null is given: it clears the stored value). */
export const FIELD_BITS = {
  email: 1,
  externalRef: 2,
  profileUrl: 4,
  firstName: 8,
  lastName: 16,
  birthDate: 32,
  timeZone: 64,
  status: 128,
  tags: 256,
  attributes: 512,
} as const satisfies Record<keyof ContactChanges, number>;

/** The FIELD_BITS of the fields `changes` gives. */
export function fieldMask(changes: ContactChanges): number {
  let mask = 0;
  for (const key in changes) mask |= FIELD_BITS[key as keyof ContactChanges];
  return mask;
}

/** A valid row waiting to be staged. */
export interface ValidRow {
  row: number;
  changes: ContactChanges;
}

/** A staged row as the merge resolves it: its identity only (the values stay in Postgres). */
export interface StagedIdentity {
  row: number;
  /** The id a new contact made from this row gets. */
  id: string;
  mask: number;
  email: string | null;
  externalRef: string | null;
}

/**
 * Staged rows of one import older than this belong to an import that died without cleaning up
 * (a crash, a lost connection): any import's cleanup sweeps them. No request lives this long.
 */
const ABANDONED_AFTER_MS = 6 * 3600_000;

const STAGED_COLUMNS = `import_id, chunk, row, id, mask, email, external_ref, profile_url, first_name, last_name,
  birth_date, time_zone, status, tags, attributes, attr_removed, created_at`;

/**
 * The scratch rows of one import (table contact_import_rows): written chunk by chunk while the
 * body arrives, each chunk by one COPY on a pooled connection taken for that COPY alone, so a
 * slow client never holds a connection; read back by the merge inside its transaction.
 */
export class ImportStaging {
  readonly importId = uuidv7();
  chunks = 0;

  constructor(private readonly dataSource: DataSource) {}

  /** Stages one chunk (autocommitted: the rows are invisible to everything but this import). */
  async write(rows: readonly ValidRow[]): Promise<void> {
    if (rows.length === 0) return;
    const chunk = this.chunks++;
    const lines: string[] = [];
    for (const { row, changes: c } of rows) {
      const id = uuidv7();
      const attributes = c.attributes;
      const removed = attributes ? Object.keys(attributes).filter((k) => attributes[k] === null) : [];
      const kept =
        attributes && removed.length > 0
          ? Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== null))
          : attributes;
      lines.push(
        [
          this.importId,
          chunk,
          row,
          id,
          fieldMask(c),
          copyText(c.email ?? null),
          copyText(c.externalRef ?? null),
          copyText(c.profileUrl ?? null),
          copyText(c.firstName ?? null),
          copyText(c.lastName ?? null),
          copyText(c.birthDate ?? null),
          copyText(c.timeZone ?? null),
          copyText(c.status ?? null),
          copyText(c.tags ? arrayLiteral(c.tags) : null),
          copyText(kept ? JSON.stringify(kept) : null),
          copyText(removed.length > 0 ? arrayLiteral(removed) : null),
          isoAt(uuidv7Time(id)),
        ].join('\t'),
      );
    }
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await copyIn(
        runner.manager,
        `COPY contact_import_rows (${STAGED_COLUMNS}) FROM STDIN`,
        Buffer.from(`${lines.join('\n')}\n`),
      );
    } finally {
      await runner.release();
    }
  }

  /** The identities of one staged chunk, in row order. */
  async identities(manager: EntityManager, chunk: number): Promise<StagedIdentity[]> {
    const rows = await manager.query<
      { row: number; id: string; mask: number; email: string | null; external_ref: string | null }[]
    >(
      `SELECT row, id, mask, email, external_ref FROM contact_import_rows
       WHERE import_id = $1 AND chunk = $2 ORDER BY row`,
      [this.importId, chunk],
    );
    return rows.map((r) => ({
      row: r.row,
      id: r.id,
      mask: r.mask,
      email: r.email,
      externalRef: r.external_ref,
    }));
  }

  /** The full changes of some staged rows of a chunk, by row number. */
  async changes(
    manager: EntityManager,
    chunk: number,
    rows: readonly number[],
  ): Promise<Map<number, ContactChanges>> {
    const found = await manager.query<StagedValues[]>(
      `SELECT row, mask, email, external_ref, profile_url, first_name, last_name, birth_date::text AS birth_date,
              time_zone, status, tags, attributes, attr_removed
       FROM contact_import_rows WHERE import_id = $1 AND chunk = $2 AND row = ANY ($3::int[])`,
      [this.importId, chunk, rows],
    );
    return new Map(found.map((r) => [r.row, changesOf(r)]));
  }

  /**
   * New contacts straight from their staged rows, inside Postgres: the common case of an import
   * (one row per new contact) never travels back through Node.
   */
  async insertContacts(manager: EntityManager, tenantId: string, chunk: number, rows: readonly number[]) {
    await manager.query(
      `INSERT INTO contacts (tenant_id, id, email, external_ref, profile_url, first_name, last_name, birth_date,
         time_zone, status, tags, attributes, archived_at, created_at)
       SELECT $1, s.id, s.email, s.external_ref, s.profile_url, s.first_name, s.last_name, s.birth_date,
         s.time_zone, coalesce(s.status, 'active'), coalesce(s.tags, '{}'), coalesce(s.attributes, '{}'),
         CASE WHEN s.status = 'archived' THEN now() END, s.created_at
       FROM contact_import_rows s
       WHERE s.import_id = $2 AND s.chunk = $3 AND s.row = ANY ($4::int[])`,
      [tenantId, this.importId, chunk, rows],
    );
  }

  /**
   * Deletes this import's rows, and any an abandoned import left. Never throws: what a failed
   * delete leaves behind, a later import's cleanup sweeps.
   */
  async discard(): Promise<void> {
    try {
      await this.dataSource.query(`DELETE FROM contact_import_rows WHERE import_id = $1 OR import_id < $2`, [
        this.importId,
        uuidv7Floor(Date.now() - ABANDONED_AFTER_MS),
      ]);
    } catch {
      // Swept later (see ABANDONED_AFTER_MS); the import's own outcome is what the caller reports.
    }
  }
}

interface StagedValues {
  row: number;
  mask: number;
  email: string | null;
  external_ref: string | null;
  profile_url: string | null;
  first_name: string | null;
  last_name: string | null;
  birth_date: string | null;
  time_zone: string | null;
  status: ContactChanges['status'] | null;
  tags: string[] | null;
  attributes: Record<string, unknown> | null;
  attr_removed: string[] | null;
}

function changesOf(r: StagedValues): ContactChanges {
  const c: ContactChanges = {};
  const given = (bit: number) => (r.mask & bit) !== 0;
  if (given(FIELD_BITS.email)) c.email = r.email;
  if (given(FIELD_BITS.externalRef)) c.externalRef = r.external_ref;
  if (given(FIELD_BITS.profileUrl)) c.profileUrl = r.profile_url;
  if (given(FIELD_BITS.firstName)) c.firstName = r.first_name;
  if (given(FIELD_BITS.lastName)) c.lastName = r.last_name;
  if (given(FIELD_BITS.birthDate)) c.birthDate = r.birth_date;
  if (given(FIELD_BITS.timeZone)) c.timeZone = r.time_zone;
  if (given(FIELD_BITS.status) && r.status) c.status = r.status;
  if (given(FIELD_BITS.tags)) c.tags = r.tags ?? [];
  if (given(FIELD_BITS.attributes)) {
    const attributes: Record<string, unknown> = { ...(r.attributes ?? {}) };
    for (const key of r.attr_removed ?? []) attributes[key] = null;
    c.attributes = attributes as ContactChanges['attributes'];
  }
  return c;
}
