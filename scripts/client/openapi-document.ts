import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@herald/config';
import { testEnvironment } from '@herald/testing';
import type { OpenAPIObject } from '@nestjs/swagger';
import { AppModule } from '../../apps/api/src/app.module';
import { buildOpenApiDocument } from '../../apps/api/src/http/openapi';

/**
 * The api's OpenAPI document without Postgres or Redis: Nest's preview mode registers the
 * modules and controllers (all the document is read from) but instantiates no provider, so
 * nothing connects. The URLs below are never dialled; only config validation reads them.
 */
export async function openApiDocument(): Promise<OpenAPIObject> {
  const config = loadConfig(
    testEnvironment({
      DATABASE_URL: 'postgres://herald@127.0.0.1:1/herald',
      REDIS_URL: 'redis://127.0.0.1:1',
      LOG_LEVEL: 'silent',
    }),
  );
  const app = await NestFactory.create(AppModule.register(config), { preview: true, logger: false });
  try {
    const document = buildOpenApiDocument(app, config);
    // The version comes from package.json: keep it out so a release does not make the client stale.
    document.info.version = '1';
    return document;
  } finally {
    await app.close();
  }
}
