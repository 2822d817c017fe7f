import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadHeraldConfig } from '@herald/config';
import { runProcess, serve, strictHttpAdapter } from '@herald/telemetry';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';

runProcess('herald-worker', async () => {
  const config = loadHeraldConfig({ role: 'worker' });
  const app = await NestFactory.create(AppModule.register(config), strictHttpAdapter(), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  await serve(app, config, { public: false });
});
