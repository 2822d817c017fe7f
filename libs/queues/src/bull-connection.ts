import { Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { Cluster } from 'ioredis';
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { bullConnection, redisTarget } from './redis-connection';

/** What BullMQ connects with: options (standalone) or the one cluster client its queues share. */
export const BULL_CONNECTION = Symbol('HERALD_BULL_CONNECTION');

/** Closes the shared cluster client BullMQ was given (BullMQ never closes a client it did not open). */
@Injectable()
export class BullConnectionLifecycle implements OnApplicationShutdown {
  constructor(@Inject(BULL_CONNECTION) private readonly connection: BullRedisOptions | Cluster) {}

  async onApplicationShutdown(): Promise<void> {
    const connection = this.connection;
    if (!(connection instanceof Cluster)) return;
    await connection.quit().catch(() => connection.disconnect());
  }
}

/** Imported by BullModule.forRootAsync, so its shutdown hook runs after the queues' and workers'. */
@Module({
  providers: [
    {
      provide: BULL_CONNECTION,
      inject: [HERALD_CONFIG],
      useFactory: (config: HeraldConfig) => bullConnection(redisTarget(config)),
    },
    BullConnectionLifecycle,
  ],
  exports: [BULL_CONNECTION],
})
export class BullConnectionModule {}
