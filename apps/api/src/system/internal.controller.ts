import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HeartbeatReader, type WorkerHeartbeat } from '@herald/queues';

/** Served on the ops port only (the port gate refuses /internal/* on the public port). */
@ApiExcludeController()
@Controller('internal')
export class InternalController {
  constructor(private readonly heartbeats: HeartbeatReader) {}

  @Get('worker/heartbeat')
  async workers(): Promise<{ workers: WorkerHeartbeat[] }> {
    return { workers: await this.heartbeats.alive() };
  }
}
