import { Column, Entity, PrimaryColumn } from 'typeorm';

export type InteractionType =
  'delivery_sent' | 'delivery_failed' | 'reply' | 'bounce' | 'unsubscribe' | 'note';

/** One entry of a contact's activity log; the payload shape depends on the type. */
@Entity({ name: 'interactions' })
export class Interaction {
  @PrimaryColumn({ name: 'tenant_id', type: 'uuid' })
  tenantId!: string;

  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'contact_id', type: 'uuid' })
  contactId!: string;

  @Column({ type: 'text' })
  type!: InteractionType;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt!: Date;
}
