import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { serviceName, TelemetryModule } from '@herald/telemetry';
import { dataSourceOptions } from './data-source-options';
import { DatabaseHealth } from './database.health';
import { SystemPingsRepository } from './system-pings.repository';
import { TransactionRunner } from './transaction-runner';

/**
 * The Postgres pool (TypeORM's DataSource), its readiness and the transaction helper. Import it
 * wherever a provider injects the DataSource: @nestjs/typeorm serves the DataSource from a global
 * module of its own, so the import is what says a module uses Postgres.
 */
@Module({
  imports: [
    TelemetryModule,
    TypeOrmModule.forRootAsync({
      inject: [HERALD_CONFIG],
      useFactory: (config: HeraldConfig) => ({
        ...dataSourceOptions({
          url: config.database.url.reveal(),
          poolMax: config.database.poolMax,
          statementTimeoutMs: config.database.statementTimeoutMs,
          idleInTransactionTimeoutMs: config.database.idleInTransactionTimeoutMs,
          applicationName: serviceName(config),
        }),
        // Boot must not hang or crash while Postgres is away: /ready reports it instead.
        retryAttempts: Number.MAX_SAFE_INTEGER,
        retryDelay: 1000,
      }),
    }),
  ],
  providers: [TransactionRunner, DatabaseHealth, SystemPingsRepository],
  exports: [TransactionRunner, SystemPingsRepository],
})
export class PersistenceModule {}
