import 'reflect-metadata';
// Next: @herald/telemetry hooks the tracing instrumentations before http, pg and ioredis load.
import { runProcess, serve, startTracing, strictHttpAdapter } from '@herald/telemetry';
import { NestFactory } from '@nestjs/core';
import { loadHeraldConfig } from '@herald/config';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';

runProcess('herald-beat', async () => {
  const config = loadHeraldConfig({ role: 'beat' });
  startTracing(config);
  const app = await NestFactory.create(AppModule.register(config), strictHttpAdapter(), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  await serve(app, config, { public: false });
});
