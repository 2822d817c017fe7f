import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { HeraldConfig } from '@herald/config';
import { publicListenerOnly, ServerPorts } from '@herald/telemetry';
import helmet from 'helmet';
import { CONSOLE_PATH, consoleStatic } from '../console-static/console-static';
import { BULL_BOARD_PATH } from '../engine/bull-board';
import { buildOpenApiDocument } from './openapi';

/**
 * Public-port concerns: security headers, the CORS allowlist, the OpenAPI docs (/docs,
 * /docs-json) and the console's static files (/console). Authentication, rate limits and bodies are the ApiModule's /v1 middleware.
 */
export function configureHttp(app: NestExpressApplication, config: HeraldConfig): void {
  app.use(helmet({ contentSecurityPolicy: false }));
  app.enableCors(
    config.http.corsOrigins.length > 0
      ? {
          origin: [...config.http.corsOrigins],
          methods: ['GET', 'POST', 'PATCH', 'DELETE'],
          allowedHeaders: ['Authorization', 'X-API-Key', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
          exposedHeaders: [
            'X-Request-Id',
            'Retry-After',
            'RateLimit-Limit',
            'RateLimit-Remaining',
            'RateLimit-Reset',
            'Idempotent-Replayed',
            'Allow',
          ],
          maxAge: 600,
        }
      : { origin: false },
  );
  app.disable('x-powered-by');
  // Which X-Forwarded-* to believe: req.ip (what failed authentications are counted by),
  // req.protocol and req.host (Bull Board's same-origin check) come from it.
  app.set('trust proxy', config.http.trustProxy);
  // Hashing every JSON body for a weak ETag costs more than it saves: no route serves conditional GETs.
  app.set('etag', false);
  // Mounted outside Nest's routes, so declared here: public listener only (404 on the ops port).
  const publicOnly = publicListenerOnly(app.get(ServerPorts));
  app.use(['/docs', '/docs-json', BULL_BOARD_PATH, CONSOLE_PATH], publicOnly);
  // The built console at /console (and `/` → /console/); its own CSP. Public listener only.
  app.use(consoleStatic(config, app.get(ServerPorts)));
  const document = buildOpenApiDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
