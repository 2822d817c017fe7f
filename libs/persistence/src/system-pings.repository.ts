import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { SystemPing } from './entities';

@Injectable()
export class SystemPingsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(id: string, requestId: string): Promise<SystemPing> {
    return this.dataSource
      .getRepository(SystemPing)
      .save({ id, requestId, processedBy: null, jobId: null, processedAt: null });
  }

  /** Idempotent: a replayed job leaves the first worker's mark in place. */
  async markProcessed(id: string, worker: string, jobId: string): Promise<boolean> {
    const result = await this.dataSource.query<[unknown[], number]>(
      `UPDATE system_pings SET processed_by = $2, job_id = $3, processed_at = now() WHERE id = $1 AND processed_at IS NULL`,
      [id, worker, jobId],
    );
    return result[1] > 0;
  }

  findById(id: string): Promise<SystemPing | null> {
    return this.dataSource.getRepository(SystemPing).findOneBy({ id });
  }
}
