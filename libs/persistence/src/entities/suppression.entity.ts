import { Column, Entity, PrimaryColumn } from 'typeorm';

export type SuppressionReason = 'unsubscribe' | 'bounce' | 'manual';

/** Never send to this email address or contact (checked before every send). Exactly one target is set. */
@Entity({ name: 'suppressions' })
export class Suppression {
  @PrimaryColumn({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'text', nullable: true })
  email!: string | null;

  @Column({ name: 'contact_id', type: 'uuid', nullable: true })
  contactId!: string | null;

  @Column({ type: 'text' })
  reason!: SuppressionReason;

  @Column({ type: 'text', nullable: true })
  note!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;
}
