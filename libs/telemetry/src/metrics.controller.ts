import { Controller, Get, Res } from '@nestjs/common';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { Response } from 'express';
import { DeclareAccess } from './routes';

/** `/metrics` (path set by PrometheusModule), declared `ops`: served on the ops listener only. */
// Kept out of the OpenAPI document (the key @nestjs/swagger's ApiExcludeController sets).
@Reflect.metadata('swagger/apiExcludeController', [true])
@Controller()
export class MetricsController extends PrometheusController {
  @Get()
  @DeclareAccess('ops')
  override index(@Res({ passthrough: true }) response: Response): Promise<string> {
    return super.index(response);
  }
}
