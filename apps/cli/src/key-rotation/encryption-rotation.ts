import type { KeyRing } from '@herald/config';

/** The key id under which values sealed before ids were recorded are counted. */
export const NO_KEY_ID = '(none)';

/** Values of one kind sealed at rest: counted by key id, re-sealed with the current key a batch at a time. */
export interface Resealer<Cursor> {
  readonly name: string;
  readonly currentKeyId: string;
  /** Live values by the key id they record. */
  census(): Promise<Record<string, number>>;
  /**
   * One short transaction over up to `limit` values after `after` that another key sealed:
   * locked (skipping rows a writer holds), re-sealed, written back only where unchanged.
   * `next` is null once the end is reached.
   */
  resealBatch(after: Cursor | null, limit: number): Promise<{ resealed: number; next: Cursor | null }>;
}

export interface RotationProgress {
  name: string;
  pass: number;
  resealed: number;
  /** Values sealed with another key when the run started. */
  of: number;
}

export interface RotationOptions {
  batchSize: number;
  /** Count only. */
  dryRun?: boolean;
  /** Passes over the table at most: a pass takes the rows a writer held during the one before. */
  passes?: number;
  /** Waited between passes (a row held by a request is usually free a moment later). */
  pause?: () => Promise<void>;
  onProgress?: (progress: RotationProgress) => void;
}

export interface RotationReport {
  name: string;
  currentKey: string;
  /** Live values when the run started. */
  total: number;
  /** Re-sealed with the current key by this run (0 in a dry run). */
  resealed: number;
  /** Still sealed with another key, by key id (in a dry run: what a run would re-seal, and the unreadable). */
  remainingByKey: Record<string, number>;
  remaining: number;
  /** Of the remaining, those sealed with a key the ring does not hold: no rotation can re-seal them. */
  unreadable: number;
}

/**
 * Re-seals with the ring's current key every value of one kind that another key sealed, in
 * batches, while the fleet keeps reading and writing. Safe to stop and run again: each batch
 * commits on its own and a run starts over from what is still sealed with another key.
 */
export async function rotateEncryption<Cursor>(
  resealer: Resealer<Cursor>,
  ring: KeyRing,
  options: RotationOptions,
): Promise<RotationReport> {
  const before = await resealer.census();
  const total = sum(Object.values(before));
  let remainingByKey = notCurrent(before, ring);
  const of = sum(Object.values(remainingByKey));
  let resealed = 0;
  const passes = options.dryRun ? 0 : (options.passes ?? 3);
  for (let pass = 1; pass <= passes && sum(Object.values(remainingByKey)) > 0; pass++) {
    if (pass > 1) await options.pause?.();
    let cursor: Cursor | null = null;
    let resealedInPass = 0;
    do {
      const batch = await resealer.resealBatch(cursor, options.batchSize);
      resealedInPass += batch.resealed;
      resealed += batch.resealed;
      cursor = batch.next;
      options.onProgress?.({ name: resealer.name, pass, resealed, of });
    } while (cursor !== null);
    remainingByKey = notCurrent(await resealer.census(), ring);
    // Nothing moved: what is left does not open, or stays held; another pass would not change it.
    if (resealedInPass === 0) break;
  }
  const unknown = Object.entries(remainingByKey).filter(([id]) => id !== NO_KEY_ID && !ring.find(id));
  return {
    name: resealer.name,
    currentKey: ring.current.id,
    total,
    resealed,
    remainingByKey,
    remaining: sum(Object.values(remainingByKey)),
    unreadable: sum(unknown.map(([, n]) => n)),
  };
}

function notCurrent(census: Record<string, number>, ring: KeyRing): Record<string, number> {
  return Object.fromEntries(Object.entries(census).filter(([id, n]) => id !== ring.current.id && n > 0));
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
