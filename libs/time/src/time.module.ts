import { Global, Module, type DynamicModule } from '@nestjs/common';
import { CLOCK, SystemClock, type Clock } from './clock';

/** Provides CLOCK to the whole app: the SystemClock, or the clock a test passes in. */
@Global()
@Module({})
export class TimeModule {
  static forRoot(options: { clock?: Clock } = {}): DynamicModule {
    return {
      module: TimeModule,
      providers: [{ provide: CLOCK, useValue: options.clock ?? new SystemClock() }],
      exports: [CLOCK],
    };
  }
}
