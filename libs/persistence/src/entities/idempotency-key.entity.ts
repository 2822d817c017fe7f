import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A stored response for an Idempotency-Key (sealed with the encryption key: it may hold a new API key).
 * tenant_id is NULL for platform-level requests; (tenant_id, key) is unique with NULLS NOT DISTINCT.
 */
@Entity({ name: 'idempotency_keys' })
export class IdempotencyKey {
  @PrimaryColumn({ type: 'bigint', generated: 'identity' })
  id!: string;

  @Column({ name: 'tenant_id', type: 'uuid', nullable: true })
  tenantId!: string | null;

  @Column({ type: 'text' })
  key!: string;

  @Column({ type: 'text' })
  fingerprint!: string;

  @Column({ name: 'response_status', type: 'smallint' })
  responseStatus!: number;

  @Column({ name: 'response_body', type: 'bytea' })
  responseBody!: Buffer;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz', precision: 3 })
  expiresAt!: Date;
}
