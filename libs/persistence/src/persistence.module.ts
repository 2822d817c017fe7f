import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { serviceName } from '@herald/telemetry';
import { dataSourceOptions } from './data-source-options';
import { DatabaseHealth } from './database.health';
import { SystemPingsRepository } from './system-pings.repository';
import { TransactionRunner } from './transaction-runner';

@Global()
@Module({})
export class PersistenceModule {
  static forRoot(): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
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
    };
  }
}
