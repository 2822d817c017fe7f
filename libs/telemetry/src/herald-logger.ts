import { Inject, Injectable, Scope } from '@nestjs/common';
import { PARAMS_PROVIDER_TOKEN, PinoLogger, type Params } from 'nestjs-pino';

/**
 * nestjs-pino's PinoLogger is transient-scoped, and a transient dependency makes
 * @nestjs/bullmq treat a processor as request-scoped: a new processor instance per job.
 * This singleton logs the same way (same root logger, same request context) without that cost.
 * Inject HeraldLogger everywhere; never PinoLogger.
 */
// The scope must be explicit: Nest would otherwise inherit PinoLogger's TRANSIENT scope metadata.
@Injectable({ scope: Scope.DEFAULT })
export class HeraldLogger extends PinoLogger {
  constructor(@Inject(PARAMS_PROVIDER_TOKEN) params: Params) {
    super(params);
  }
}
