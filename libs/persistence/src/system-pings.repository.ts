import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { queryRows } from './query-rows';

/** A round trip through the fleet: the api writes the request, a worker records that it ran. */
export interface SystemPing {
  id: string;
  requestId: string;
  processedBy: string | null;
  jobId: string | null;
  createdAt: Date;
  processedAt: Date | null;
}

const COLUMNS = `id, request_id AS "requestId", processed_by AS "processedBy", job_id AS "jobId",
  created_at AS "createdAt", processed_at AS "processedAt"`;

@Injectable()
export class SystemPingsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(id: string, requestId: string): Promise<SystemPing> {
    const [ping] = queryRows<SystemPing>(
      await this.dataSource.query(
        `INSERT INTO system_pings (id, request_id) VALUES ($1, $2) RETURNING ${COLUMNS}`,
        [id, requestId],
      ),
    );
    return ping!;
  }

  /** Idempotent: a replayed job leaves the first worker's mark in place. */
  async markProcessed(id: string, worker: string, jobId: string): Promise<boolean> {
    const result = await this.dataSource.query<[unknown[], number]>(
      `UPDATE system_pings SET processed_by = $2, job_id = $3, processed_at = now() WHERE id = $1 AND processed_at IS NULL`,
      [id, worker, jobId],
    );
    return result[1] > 0;
  }

  async findById(id: string): Promise<SystemPing | null> {
    const [ping] = queryRows<SystemPing>(
      await this.dataSource.query(`SELECT ${COLUMNS} FROM system_pings WHERE id = $1`, [id]),
    );
    return ping ?? null;
  }
}
