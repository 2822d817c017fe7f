import type { EntityManager } from 'typeorm';
import { mergeAttributes, mergedAttributesProblem } from '../attribute-caps';
import type { ContactChanges } from '../contact-fields';
import { uuidv7Time } from '../ids';
import { arrayLiteral, copyIn, copyText, isoAt } from './copy-in';
import type { ImportRowError } from './import-row';
import { FIELD_BITS as BITS, type StagedIdentity } from './import-staging';
import type { ImportSummary, Report } from './import-summary';

/** Where a chunk's rows are: staged in Postgres, or in memory (read inside the transaction). */
export interface ChunkSource {
  /** The full changes of some of the chunk's rows. */
  changes(manager: EntityManager, rows: readonly number[]): Promise<Map<number, ContactChanges>>;
  /** Inserts new contacts each written by one row of the chunk (its id is the row's). */
  insertNew(manager: EntityManager, tenantId: string, rows: readonly StagedIdentity[]): Promise<void>;
}

/** One contact the chunk writes: an existing one (matched by email or external_ref) or a new one. */
interface Slot {
  id: string;
  existing: boolean;
  email: string | null;
  externalRef: string | null;
  mask: number;
  changes: ContactChanges;
  /** The rows that write this contact, in order. */
  rows: number[];
  /** An existing contact's attributes as stored, when the chunk changes attributes (for the caps). */
  storedAttributes: Record<string, unknown> | null;
}

/**
 * Writes one chunk of an import in the caller's transaction: one lookup (locking) of the contacts
 * its emails and external_refs name, its rows matched to contacts in order (a row naming two
 * contacts, or whose attributes would break the caps once merged, is refused), then the new
 * contacts and one UPDATE … FROM for the existing ones.
 */
export async function writeChunk(
  manager: EntityManager,
  tenantId: string,
  source: ChunkSource,
  rows: StagedIdentity[],
  summary: ImportSummary,
  report: Report,
  attempt: 'chunk' | 'chunk-again' | 'row' = 'chunk',
): Promise<void> {
  if (rows.length === 0) return;
  // Rows refused while matching are reported only once the chunk is written (a retry re-matches them).
  const refused: ImportRowError[] = [];
  const emails = new Set<string>();
  const refs = new Set<string>();
  for (const row of rows) {
    if (row.email !== null) emails.add(row.email);
    if (row.externalRef !== null) refs.add(row.externalRef);
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
    [tenantId, [...emails], [...refs], rows.some((r) => (r.mask & BITS.attributes) !== 0)],
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
      rows: [],
      storedAttributes: c.attributes,
    };
    slots.push(slot);
    if (c.email) byEmail.set(c.email, slot);
    if (c.external_ref) byRef.set(c.external_ref, slot);
  }
  // Only a row whose email or external_ref another row or a stored contact also has can write an
  // existing contact or one an earlier row made: its changes are needed now (for the attribute
  // caps on the merge, and to fold the rows of one contact); the others go in as they are.
  const seen = new Map<string, number>();
  const count = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);
  for (const c of found) {
    if (c.email !== null) count(`e:${c.email}`);
    if (c.external_ref !== null) count(`r:${c.external_ref}`);
  }
  for (const r of rows) {
    if (r.email !== null) count(`e:${r.email}`);
    if (r.externalRef !== null) count(`r:${r.externalRef}`);
  }
  const shared = rows.filter(
    (r) =>
      (r.email !== null && seen.get(`e:${r.email}`)! > 1) ||
      (r.externalRef !== null && seen.get(`r:${r.externalRef}`)! > 1),
  );
  const changes =
    shared.length > 0
      ? await source.changes(
          manager,
          shared.map((r) => r.row),
        )
      : new Map<number, ContactChanges>();
  const firstRow = new Map<Slot, StagedIdentity>();
  for (const staged of rows) {
    const { row } = staged;
    const viaEmail = staged.email !== null ? byEmail.get(staged.email) : undefined;
    const viaRef = staged.externalRef !== null ? byRef.get(staged.externalRef) : undefined;
    if (viaEmail && viaRef && viaEmail !== viaRef) {
      refused.push({
        row,
        field: 'external_ref',
        message: 'belongs to a different contact than the email',
      });
      continue;
    }
    let slot = viaEmail ?? viaRef;
    const email = (staged.mask & BITS.email) !== 0 ? staged.email : (slot?.email ?? null);
    const externalRef =
      (staged.mask & BITS.externalRef) !== 0 ? staged.externalRef : (slot?.externalRef ?? null);
    if (email === null && externalRef === null) {
      refused.push({ row, field: 'email', message: 'a contact needs an email or an external_ref' });
      continue;
    }
    const rowChanges = changes.get(row);
    const capProblem = rowChanges && mergedCapProblem(slot, rowChanges);
    if (capProblem) {
      refused.push({ row, field: 'attributes', message: capProblem });
      continue;
    }
    if (!slot) {
      slot = {
        id: staged.id,
        existing: false,
        email: null,
        externalRef: null,
        mask: 0,
        changes: {},
        rows: [],
        storedAttributes: null,
      };
      slots.push(slot);
      firstRow.set(slot, staged);
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
    if (rowChanges) mergeInto(slot, rowChanges);
    slot.rows.push(row);
  }

  // A new contact written by one row (the usual case) is inserted from that row as is; the
  // others (existing contacts, several rows for one contact) are written from their folded changes.
  const single = slots.filter((s) => !s.existing && s.rows.length === 1).map((s) => firstRow.get(s)!);
  const folded = slots.filter((s) => s.rows.length > 0 && (s.existing || s.rows.length > 1));
  const fresh = folded.filter((s) => !s.existing);
  const touched = folded.filter((s) => s.existing);
  // A savepoint per chunk: a unique violation the lookup could not foresee (a concurrent import
  // of the same contacts, two contacts swapping emails) rolls the chunk back and it is written
  // again after a fresh lookup (which now sees the other writer's rows); if that fails too, row
  // by row, so only the rows that really conflict are refused.
  try {
    await manager.query('SAVEPOINT import_chunk');
    if (single.length > 0) await source.insertNew(manager, tenantId, single);
    if (fresh.length > 0) await insert(manager, tenantId, fresh);
    if (touched.length > 0) await update(manager, tenantId, touched);
    await manager.query('RELEASE SAVEPOINT import_chunk');
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    await manager.query('ROLLBACK TO SAVEPOINT import_chunk');
    await manager.query('RELEASE SAVEPOINT import_chunk');
    if (attempt === 'row' || rows.length === 1) {
      for (const { row } of rows)
        report(row, 'email', 'conflicts with another contact’s email or external_ref');
      return;
    }
    if (attempt === 'chunk')
      return writeChunk(manager, tenantId, source, rows, summary, report, 'chunk-again');
    for (const row of rows) await writeChunk(manager, tenantId, source, [row], summary, report, 'row');
    return;
  }
  for (const { row, field, message } of refused) report(row, field, message);
  for (const slot of slots) {
    if (slot.rows.length === 0) continue;
    if (slot.existing) summary.updated += slot.rows.length;
    else {
      summary.created += 1;
      summary.updated += slot.rows.length - 1;
    }
  }
}

/** New contacts, by COPY: the chunk's identities were resolved first, so nothing here should conflict. */
async function insert(manager: EntityManager, tenantId: string, slots: Slot[]): Promise<void> {
  const archivedAt = new Date().toISOString();
  await copyContacts(
    manager,
    slots.map((s) => contactLine(tenantId, s.id, s.email, s.externalRef, s.changes, archivedAt)),
  );
}

async function update(manager: EntityManager, tenantId: string, slots: Slot[]): Promise<void> {
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

/** New contacts by COPY, one line (contactLine) each. */
export function copyContacts(manager: EntityManager, lines: readonly string[]): Promise<number> {
  return copyIn(
    manager,
    `COPY contacts (tenant_id, id, email, external_ref, profile_url, first_name, last_name, birth_date, time_zone,
       status, tags, attributes, archived_at, created_at) FROM STDIN`,
    Buffer.from(`${lines.join('\n')}\n`),
  );
}

/** A new contact as a line of COPY text (created_at is the id's own time). */
export function contactLine(
  tenantId: string,
  id: string,
  email: string | null,
  externalRef: string | null,
  c: ContactChanges,
  archivedAt: string,
): string {
  const status = c.status ?? 'active';
  return [
    tenantId,
    id,
    copyText(email),
    copyText(externalRef),
    copyText(c.profileUrl ?? null),
    copyText(c.firstName ?? null),
    copyText(c.lastName ?? null),
    copyText(c.birthDate ?? null),
    copyText(c.timeZone ?? null),
    status,
    copyText(arrayLiteral(c.tags ?? [])),
    copyText(JSON.stringify(withoutNulls(c.attributes) ?? {})),
    status === 'archived' ? archivedAt : '\\N',
    isoAt(uuidv7Time(id)),
  ].join('\t');
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
  for (const key in attributes) {
    if (attributes[key] === null)
      return Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== null));
  }
  return attributes;
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  return (e.driverError?.code ?? e.code) === '23505';
}
