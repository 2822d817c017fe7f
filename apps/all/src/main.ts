import 'reflect-metadata';
// Next: @herald/telemetry hooks the tracing instrumentations before http, pg and ioredis load.
import { runProcess, serve, startTracing, strictHttpAdapter } from '@herald/telemetry';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadHeraldConfig } from '@herald/config';
import { Logger } from 'nestjs-pino';
import { configureHttp } from '@herald/app-api';
import { AppModule } from './app.module';

runProcess('herald', async () => {
  const config = loadHeraldConfig({ role: 'all' });
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
