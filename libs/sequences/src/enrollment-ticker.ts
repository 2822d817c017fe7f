import { Injectable } from '@nestjs/common';

/**
 * The enrollment ticker: turns sequence steps that are due into deliveries. The leading beat
 * calls `tick` every BEAT_TICK_INTERVAL_MS. (Being built: see issue #5.)
 */
@Injectable()
export class EnrollmentTicker {
  /** Turns up to `limit` due steps into deliveries and enqueues them; returns how many. */
  tick(_limit = 1000): Promise<number> {
    return Promise.resolve(0);
  }
}
