import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A round trip through the fleet: the api writes the request, a worker records that it ran. */
@Entity({ name: 'system_pings' })
export class SystemPing {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'request_id', type: 'text' })
  requestId!: string;

  @Column({ name: 'processed_by', type: 'text', nullable: true })
  processedBy!: string | null;

  @Column({ name: 'job_id', type: 'text', nullable: true })
  jobId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt!: Date | null;
}
