import type { OutboundGuard } from '@herald/channels';
import type { z } from 'zod';
import type { SourceKind, UnsealedSourceAccount } from '../accounts/source-account';

/** What a connector found: one business or person, before dedupe. */
export interface FoundCandidate {
  /** The connector's identity for it (external id, profile URL, row hash): unique within a run. */
  sourceKey: string;
  name?: string | undefined;
  website?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  address?: Record<string, unknown> | undefined;
  category?: string | undefined;
  externalId?: string | undefined;
  profileUrl?: string | undefined;
  /** Everything else the source said, kept as facts. */
  facts: Record<string, unknown>;
  /** The provider's payload for this candidate, hashed for provenance. */
  raw: unknown;
  /** Set when the source could not give this one (a failed visit): it is kept, rejected, with why. */
  failure?: string | undefined;
}

/** One step of a search: what it found and where the next step starts. */
export interface Batch {
  candidates: FoundCandidate[];
  /** The next step's cursor; null: the search is exhausted. */
  next: string | null;
}

export interface ConnectorContext<K extends SourceKind> {
  account: UnsealedSourceAccount<K>;
  criteria: Record<string, unknown>;
  /** Where this step starts: null for the first. */
  cursor: string | null;
  guard: OutboundGuard;
}

/**
 * One kind of source behind one interface. A run calls `step` repeatedly, each time from the
 * cursor the previous step returned (stored on the run, so a crash resumes there); each step
 * spends `requestsPerStep` units of the account's quota, reserved by the run before the step.
 */
export interface SourceConnector<K extends SourceKind = SourceKind> {
  readonly kind: K;
  /** The job's `criteria` for this kind (a 400 names `criteria.<field>`). */
  readonly criteria: z.ZodType<Record<string, unknown>>;
  /** Quota units the next step spends: a page is one search request, a visit one visit; a list none. */
  requestsPerStep(ctx: Omit<ConnectorContext<K>, 'guard'>): number;
  step(ctx: ConnectorContext<K>): Promise<Batch>;
  /** Requests a run of up to `limit` candidates would spend at most, for a dry run. */
  plannedRequests(ctx: Omit<ConnectorContext<K>, 'guard' | 'cursor'>, limit: number): number;
}
