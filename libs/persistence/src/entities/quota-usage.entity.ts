import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * How much of one quota window (or run cap) has been handed out: `used` directly by the
 * Postgres fallback, `leased` to Redis in blocks. Written only by libs/rate-limit, with raw SQL
 * under row locks; the entity is here for reading and for the schema's sake.
 */
@Entity({ name: 'quota_usage' })
export class QuotaUsage {
  /** `acct:<sender account id>` or `run:<run id>`. */
  @PrimaryColumn({ type: 'text' })
  scope!: string;

  /** `hour:2026-11-01T01-04:00`, `day:2026-03-29`, `week:2026-W13` or `run`. */
  @PrimaryColumn({ name: 'window_id', type: 'text' })
  windowId!: string;

  @Column({ name: 'limit_units', type: 'integer' })
  limitUnits!: number;

  @Column({ type: 'integer' })
  used!: number;

  @Column({ type: 'integer' })
  leased!: number;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

/** A reservation made by the Postgres fallback (Redis keeps its own while it is up). */
@Entity({ name: 'quota_reservations' })
export class QuotaReservation {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  scope!: string;

  /** `[[scope, window_id], …]` the units were taken from. */
  @Column({ type: 'jsonb' })
  buckets!: [string, string][];

  @Column({ type: 'integer' })
  units!: number;

  @Column({ type: 'text' })
  state!: 'reserved' | 'committed' | 'refunded';

  @Column({ name: 'reserved_at', type: 'timestamptz' })
  reservedAt!: Date;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
