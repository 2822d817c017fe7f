import { Controller, Get, HttpCode, Res, SetMetadata } from '@nestjs/common';
import type { Response } from 'express';
import { ReadinessService, type ReadinessReport } from './readiness.service';
import { DeclareAccess } from './routes';

/** Liveness and readiness, served by every role on its ops port (and by the api on its public port). */
// Kept out of the OpenAPI document (the key @nestjs/swagger's ApiExcludeController sets), without
// loading @nestjs/swagger into worker and beat, which serve no API docs.
@SetMetadata('swagger/apiExcludeController', [true])
@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  /** Liveness: answers while the event loop does; never touches a dependency. */
  @Get('health')
  @DeclareAccess('probe')
  @HttpCode(200)
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @DeclareAccess('probe')
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadinessReport> {
    const report = await this.readiness.report();
    res.status(report.status === 'up' ? 200 : 503);
    res.setHeader('Cache-Control', 'no-store');
    return report;
  }
}
