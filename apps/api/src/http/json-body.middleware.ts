import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { HERALD_CONFIG, sizeInBytes, type HeraldConfig } from '@herald/config';
import type { NextFunction, Request, Response } from 'express';
import { isProviderEventRequest } from '../provider-events/provider-event-request';
import { checkJsonText } from './json-text';
import { ProblemException } from './problem';
import { hasBody, readText, requireMediaType } from './request-body';

/** Routes that read their own body as a stream (they check its type and size themselves). */
const STREAMED = new Set(['/v1/contacts/import']);

/**
 * JSON bodies for /v1 writes: 415 unless application/json in UTF-8, 413 past BODY_LIMIT,
 * 408 once it stalls (HTTP_BODY_IDLE_TIMEOUT_MS), 400 when it is not JSON. Runs after
 * authentication, so only known callers get a body read; it holds no database connection
 * (the handler's transaction starts once the body is whole).
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly limit: number;
  private readonly idleMs: number;
  private readonly maxDepth: number;

  constructor(@Inject(HERALD_CONFIG) config: HeraldConfig) {
    this.limit = sizeInBytes(config.http.bodyLimit);
    this.idleMs = config.http.bodyIdleTimeoutMs;
    this.maxDepth = config.api.jsonMaxDepth;
  }

  async use(req: Request, _res: Response, next: NextFunction): Promise<void> {
    const writes = req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH';
    if (
      !writes ||
      STREAMED.has(req.path.replace(/\/$/, '')) ||
      isProviderEventRequest(req) ||
      !hasBody(req)
    ) {
      next();
      return;
    }
    requireMediaType(req, ['application/json']);
    const text = await readText(req, this.limit, this.idleMs);
    if (text.trim() === '') {
      next();
      return;
    }
    checkJsonText(text, this.maxDepth);
    try {
      req.body = JSON.parse(text) as unknown;
    } catch {
      throw ProblemException.of('malformed-json', 'The body is not valid JSON.', [
        { field: '', message: 'is not valid JSON' },
      ]);
    }
    next();
  }
}
