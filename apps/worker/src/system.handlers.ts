import { HeraldLogger } from '@herald/telemetry';
import { Injectable } from '@nestjs/common';
import { SystemPingsRepository } from '@herald/persistence';
import { HeartbeatPublisher, OnJob, type JobPayloads } from '@herald/queues';
import type { Job } from 'bullmq';

@Injectable()
export class SystemHandlers {
  constructor(
    private readonly pings: SystemPingsRepository,
    private readonly heartbeat: HeartbeatPublisher,
    private readonly logger: HeraldLogger,
  ) {}

  @OnJob('system.ping')
  async ping(payload: JobPayloads['system.ping'], job: Job): Promise<{ processed: boolean }> {
    if (payload.hold_ms > 0) await new Promise((resolve) => setTimeout(resolve, payload.hold_ms));
    const processed = await this.pings.markProcessed(payload.ping_id, this.heartbeat.id, job.id ?? '');
    this.logger.info({ ping_id: payload.ping_id, first: processed }, 'ping processed');
    return { processed };
  }
}
