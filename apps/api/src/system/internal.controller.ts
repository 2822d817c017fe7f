import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HeartbeatReader, type WorkerHeartbeat } from '@herald/queues';
import { DeclareAccess } from '@herald/telemetry';

/** Served on the ops listener only (declared `ops`: the public listener has no such route). */
@ApiExcludeController()
@Controller('internal')
export class InternalController {
  constructor(private readonly heartbeats: HeartbeatReader) {}

  @Get('worker/heartbeat')
  @DeclareAccess('ops')
  async workers(): Promise<{ workers: WorkerHeartbeat[] }> {
    return { workers: await this.heartbeats.alive() };
  }
}
