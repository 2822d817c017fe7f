import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { HeraldConfig } from '@herald/config';
import helmet from 'helmet';

/** Public-port concerns: security headers, CORS allowlist, body limits and the OpenAPI docs. */
export function configureHttp(app: NestExpressApplication, config: HeraldConfig): void {
  app.use(helmet({ contentSecurityPolicy: false }));
  app.enableCors(
    config.http.corsOrigins.length > 0
      ? { origin: [...config.http.corsOrigins], exposedHeaders: ['X-Request-Id'] }
      : { origin: false },
  );
  app.useBodyParser('json', { limit: config.http.bodyLimit });
  app.disable('x-powered-by');
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Herald API')
      .setDescription('Multi-tenant outreach automation: contacts, campaigns, deliveries.')
      .setVersion(config.app.version)
      .addBearerAuth()
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
