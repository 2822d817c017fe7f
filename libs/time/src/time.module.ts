import { Module } from '@nestjs/common';
import { CLOCK, SystemClock } from './clock';

/** Provides CLOCK (the SystemClock); a test swaps it with `overrideProvider(CLOCK)`. */
@Module({
  providers: [{ provide: CLOCK, useValue: new SystemClock() }],
  exports: [CLOCK],
})
export class TimeModule {}
