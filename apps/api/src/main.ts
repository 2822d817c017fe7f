import 'reflect-metadata';
// Next: @herald/telemetry hooks the tracing instrumentations before http, pg and ioredis load.
import { runProcess, serve, startTracing, strictHttpAdapter } from '@herald/telemetry';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadHeraldConfig } from '@herald/config';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configureHttp } from './http/configure-http';

runProcess('herald-api', async () => {
  const config = loadHeraldConfig({ role: 'api' });
  startTracing(config);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.register(config),
    strictHttpAdapter(),
    {
      bufferLogs: true,
      bodyParser: false,
    },
  );
  app.useLogger(app.get(Logger));
  configureHttp(app, config);
  await serve(app, config, { public: true });
});
