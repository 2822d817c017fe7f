import { Injectable, type OnModuleInit } from '@nestjs/common';
import { CHANNEL_NAMES } from '@herald/channels';
import { HeraldMetrics } from '@herald/telemetry';

/** Creates the delivery, provider, breaker and quota event series at 0 (see zeroEventSeries). */
@Injectable()
export class EventSeries implements OnModuleInit {
  constructor(private readonly metrics: HeraldMetrics) {}

  onModuleInit(): void {
    this.metrics.zeroEventSeries(CHANNEL_NAMES);
  }
}
