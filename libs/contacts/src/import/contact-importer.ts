import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { mergeAttributes, mergedAttributesProblem } from '../attribute-caps';
import { contactCreateSchema, toChanges, type ContactChanges } from '../contact-fields';
import { uuidv7, uuidv7Time } from '../ids';
import { arrayLiteral, copyIn, copyText } from './copy-in';
import { validate } from '../validation';
import type { ImportRowError, RawImportRow } from './import-row';

export interface ImportSummary {
  created: number;
  updated: number;
  failed: number;
  /** At most MAX_REPORTED_ERRORS entries; errors_truncated says when more rows failed. */
  errors: ImportRowError[];
  errorsTruncated: boolean;
}

/** Rows per database round trip. */
const CHUNK_ROWS = 5000;
export const MAX_REPORTED_ERRORS = 10_000;
const YIELD_EVERY_ROWS = 100;

const BITS = {
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

interface ValidRow {
  row: number;
  changes: ContactChanges;
}

/** One contact the chunk writes: an existing one (matched by email or external_ref) or a new one. */
interface Slot {
  id: string;
  existing: boolean;
  email: string | null;
  externalRef: string | null;
  mask: number;
  changes: ContactChanges;
  rows: number;
  /** An existing contact's attributes as stored, when the chunk changes attributes (for the caps). */
  storedAttributes: Record<string, unknown> | null;
}

/**
 * Bulk upsert by email / external_ref. Rows are validated one by one (a bad row is reported and
 * skipped, never the batch) and written CHUNK_ROWS at a time: one lookup of the chunk's emails
 * and external_refs, then COPY for the new contacts and one UPDATE … FROM for the existing ones,
 * while the next chunk is read and validated. Within
 * a body, later rows win: a row that names a contact an earlier row created updates it. A field
 * a row does not give keeps its stored value; attributes merge key by key (null removes one).
 */
@Injectable()
export class ContactImporter {
  async import(
    manager: EntityManager,
    tenantId: string,
    rows: AsyncIterable<RawImportRow>,
  ): Promise<ImportSummary> {
    const summary: ImportSummary = { created: 0, updated: 0, failed: 0, errors: [], errorsTruncated: false };
    const fail = (row: number, field: string, message: string) => {
      if (summary.errors.length < MAX_REPORTED_ERRORS) summary.errors.push({ row, field, message });
      else summary.errorsTruncated = true;
    };
    let pending: ValidRow[] = [];
    let inflight: Promise<void> = Promise.resolve();
    let failure: { error: unknown } | undefined;
    const flush = async () => {
      await inflight;
      if (failure) throw failure.error;
      const chunk = pending;
      pending = [];
      // Written while the loop reads and validates the next chunk; awaited before the one after.
      inflight = this.writeChunk(manager, tenantId, chunk, summary, fail).catch((error: unknown) => {
        failure = { error };
      });
    };

    let sinceYield = 0;
    for await (const raw of rows) {
      // Buffered rows arrive as microtasks, which starve I/O: yield now and then so the chunk
      // being written gets its database replies (and sends its next statement) without waiting.
      if (++sinceYield >= YIELD_EVERY_ROWS) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (raw.error) {
        summary.failed += 1;
        fail(raw.row, raw.error.field, raw.error.message);
        continue;
      }
      if (typeof raw.value !== 'object' || raw.value === null || Array.isArray(raw.value)) {
        summary.failed += 1;
        fail(raw.row, '', 'must be a JSON object');
        continue;
      }
      const result = validate(contactCreateSchema, raw.value);
      if (!result.ok) {
        summary.failed += 1;
        for (const error of result.errors) fail(raw.row, error.field, error.message);
        continue;
      }
      pending.push({ row: raw.row, changes: toChanges(result.value) });
      if (pending.length >= CHUNK_ROWS) await flush();
    }
    await flush();
    await inflight;
    if (failure) throw failure.error;
    summary.errors.sort((a, b) => a.row - b.row);
    return summary;
  }

  private async writeChunk(
    manager: EntityManager,
    tenantId: string,
    rows: ValidRow[],
    summary: ImportSummary,
    fail: (row: number, field: string, message: string) => void,
    attempt: 'chunk' | 'chunk-again' | 'row' = 'chunk',
  ): Promise<void> {
    if (rows.length === 0) return;
    // Rows refused while matching are reported only once the chunk is written (a retry re-matches them).
    const refused: ImportRowError[] = [];
    const emails = new Set<string>();
    const refs = new Set<string>();
    for (const { changes } of rows) {
      if (changes.email) emails.add(changes.email);
      if (changes.externalRef) refs.add(changes.externalRef);
    }
    const found = await manager.query<
      {
        id: string;
        email: string | null;
        external_ref: string | null;
        attributes: Record<string, unknown> | null;
      }[]
    >(
      // Attributes only when a row changes some, for the caps on the merge; locked (in id order)
      // so no other writer changes them between this check and the update.
      `SELECT id, email, external_ref, CASE WHEN $4 THEN attributes END AS attributes FROM contacts
       WHERE tenant_id = $1 AND (email = ANY ($2::text[]) OR external_ref = ANY ($3::text[]))
       ORDER BY id FOR UPDATE`,
      [tenantId, [...emails], [...refs], rows.some((r) => r.changes.attributes !== undefined)],
    );
    const byEmail = new Map<string, Slot>();
    const byRef = new Map<string, Slot>();
    const slots: Slot[] = [];
    for (const c of found) {
      const slot: Slot = {
        id: c.id,
        existing: true,
        email: c.email,
        externalRef: c.external_ref,
        mask: 0,
        changes: {},
        rows: 0,
        storedAttributes: c.attributes,
      };
      slots.push(slot);
      if (c.email) byEmail.set(c.email, slot);
      if (c.external_ref) byRef.set(c.external_ref, slot);
    }
    for (const { row, changes } of rows) {
      const viaEmail = changes.email ? byEmail.get(changes.email) : undefined;
      const viaRef = changes.externalRef ? byRef.get(changes.externalRef) : undefined;
      if (viaEmail && viaRef && viaEmail !== viaRef) {
        refused.push({
          row,
          field: 'external_ref',
          message: 'belongs to a different contact than the email',
        });
        continue;
      }
      let slot = viaEmail ?? viaRef;
      const email = changes.email !== undefined ? changes.email : (slot?.email ?? null);
      const externalRef =
        changes.externalRef !== undefined ? changes.externalRef : (slot?.externalRef ?? null);
      if (email === null && externalRef === null) {
        refused.push({ row, field: 'email', message: 'a contact needs an email or an external_ref' });
        continue;
      }
      const capProblem = mergedCapProblem(slot, changes);
      if (capProblem) {
        refused.push({ row, field: 'attributes', message: capProblem });
        continue;
      }
      if (!slot) {
        slot = {
          id: uuidv7(),
          existing: false,
          email: null,
          externalRef: null,
          mask: 0,
          changes: {},
          rows: 0,
          storedAttributes: null,
        };
        slots.push(slot);
      }
      // The row may move the contact to a new email or external_ref: keep the lookups true.
      if (slot.email !== email) {
        if (slot.email) byEmail.delete(slot.email);
        if (email) byEmail.set(email, slot);
      }
      if (slot.externalRef !== externalRef) {
        if (slot.externalRef) byRef.delete(slot.externalRef);
        if (externalRef) byRef.set(externalRef, slot);
      }
      slot.email = email;
      slot.externalRef = externalRef;
      mergeInto(slot, changes);
      slot.rows += 1;
    }

    const fresh = slots.filter((s) => !s.existing && s.rows > 0);
    const touched = slots.filter((s) => s.existing && s.rows > 0);
    // A savepoint per chunk: a unique violation the lookup could not foresee (a concurrent import
    // of the same contacts, two contacts swapping emails) rolls the chunk back and it is written
    // again after a fresh lookup (which now sees the other writer's rows); if that fails too, row
    // by row, so only the rows that really conflict are refused.
    try {
      await manager.query('SAVEPOINT import_chunk');
      if (fresh.length > 0) await this.insert(manager, tenantId, fresh);
      if (touched.length > 0) await this.update(manager, tenantId, touched);
      await manager.query('RELEASE SAVEPOINT import_chunk');
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await manager.query('ROLLBACK TO SAVEPOINT import_chunk');
      await manager.query('RELEASE SAVEPOINT import_chunk');
      if (attempt === 'row' || rows.length === 1) {
        for (const { row } of rows) {
          summary.failed += 1;
          fail(row, 'email', 'conflicts with another contact’s email or external_ref');
        }
        return;
      }
      if (attempt === 'chunk') return this.writeChunk(manager, tenantId, rows, summary, fail, 'chunk-again');
      for (const row of rows) await this.writeChunk(manager, tenantId, [row], summary, fail, 'row');
      return;
    }
    for (const { row, field, message } of refused) {
      summary.failed += 1;
      fail(row, field, message);
    }
    for (const slot of touched) summary.updated += slot.rows;
    for (const slot of fresh) {
      summary.created += 1;
      summary.updated += slot.rows - 1;
    }
  }

  /** New contacts, by COPY: the chunk's identities were resolved first, so nothing here should conflict. */
  private async insert(manager: EntityManager, tenantId: string, slots: Slot[]): Promise<Set<string>> {
    const archivedAt = new Date().toISOString();
    const lines: string[] = [];
    for (const slot of slots) {
      const c = slot.changes;
      const status = c.status ?? 'active';
      lines.push(
        [
          tenantId,
          slot.id,
          copyText(slot.email),
          copyText(slot.externalRef),
          copyText(c.profileUrl ?? null),
          copyText(c.firstName ?? null),
          copyText(c.lastName ?? null),
          copyText(c.birthDate ?? null),
          copyText(c.timeZone ?? null),
          status,
          copyText(arrayLiteral(c.tags ?? [])),
          copyText(JSON.stringify(withoutNulls(c.attributes) ?? {})),
          status === 'archived' ? archivedAt : '\\N',
          new Date(uuidv7Time(slot.id)).toISOString(),
        ].join('\t'),
      );
    }
    await copyIn(
      manager,
      `COPY contacts (tenant_id, id, email, external_ref, profile_url, first_name, last_name, birth_date, time_zone,
         status, tags, attributes, archived_at, created_at) FROM STDIN`,
      Buffer.from(`${lines.join('\n')}\n`),
    );
    return new Set(slots.map((s) => s.id));
  }

  private async update(manager: EntityManager, tenantId: string, slots: Slot[]): Promise<void> {
    const records = slots.map((s) => {
      const attributes = s.changes.attributes ?? {};
      return {
        ...wireRecord(s),
        m: s.mask,
        attributes: withoutNulls(attributes),
        attr_removed: Object.keys(attributes).filter((k) => attributes[k] === null),
      };
    });
    const set = (column: string, bit: number, value = `r.${column}`) =>
      `${column} = CASE WHEN r.m & ${bit} <> 0 THEN ${value} ELSE c.${column} END`;
    await manager.query(
      `UPDATE contacts c SET
         ${set('email', BITS.email)}, ${set('external_ref', BITS.externalRef)}, ${set('profile_url', BITS.profileUrl)},
         ${set('first_name', BITS.firstName)}, ${set('last_name', BITS.lastName)}, ${set('birth_date', BITS.birthDate)},
         ${set('time_zone', BITS.timeZone)}, ${set('status', BITS.status)}, ${set('tags', BITS.tags)},
         ${set('attributes', BITS.attributes, '(c.attributes || r.attributes) - r.attr_removed')},
         archived_at = CASE WHEN r.m & ${BITS.status} = 0 THEN c.archived_at
                            WHEN r.status = 'archived' THEN coalesce(c.archived_at, now()) END,
         updated_at = now()
       FROM json_to_recordset($2::json) AS r(id uuid, m int, email text, external_ref text, profile_url text,
         first_name text, last_name text, birth_date date, time_zone text, status text, tags text[],
         attributes jsonb, attr_removed text[])
       WHERE c.tenant_id = $1 AND c.id = r.id`,
      [tenantId, JSON.stringify(records)],
    );
  }
}

function mergeInto(slot: Slot, changes: ContactChanges): void {
  for (const key of Object.keys(changes) as (keyof ContactChanges)[]) {
    slot.mask |= BITS[key];
    if (key === 'attributes') {
      slot.changes.attributes = { ...(slot.changes.attributes ?? {}), ...changes.attributes };
    } else {
      (slot.changes as Record<string, unknown>)[key] = changes[key];
    }
  }
}

/**
 * Why a row's attributes cannot merge into its contact: the stored ones, then the chunk's earlier
 * rows', then its own must stay within the caps (the row is refused and the contact keeps what it
 * had). A new contact's first row was held to them by validation already.
 */
function mergedCapProblem(slot: Slot | undefined, changes: ContactChanges): string | undefined {
  if (!changes.attributes || !slot || (!slot.storedAttributes && !slot.changes.attributes)) return undefined;
  const before = mergeAttributes(slot.storedAttributes ?? {}, slot.changes.attributes ?? {});
  return mergedAttributesProblem(mergeAttributes(before, changes.attributes));
}

function wireRecord(slot: Slot) {
  const c = slot.changes;
  return {
    id: slot.id,
    email: slot.email,
    external_ref: slot.externalRef,
    profile_url: c.profileUrl ?? null,
    first_name: c.firstName ?? null,
    last_name: c.lastName ?? null,
    birth_date: c.birthDate ?? null,
    time_zone: c.timeZone ?? null,
    status: c.status ?? null,
    tags: c.tags ?? null,
    attributes: c.attributes ?? null,
  };
}

function withoutNulls(attributes: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (!attributes) return null;
  return Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== null));
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  return (e.driverError?.code ?? e.code) === '23505';
}
