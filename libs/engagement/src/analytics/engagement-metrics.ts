import { Injectable } from '@nestjs/common';
import { getOrCreateMetric } from '@herald/telemetry';
import { Counter } from 'prom-client';
import type { EngagementEvent } from '../engagement-event';

/**
 * `herald_engagement_events_total{kind,source,account}`: events recorded for the first time
 * (a replay is not counted), machine ones included. `account` is the sender account id the
 * event was matched to, or 'none'; the number of accounts is the tenant's, bounded.
 */
@Injectable()
export class EngagementMetrics {
  readonly events = getOrCreateMetric(
    'herald_engagement_events_total',
    () =>
      new Counter({
        name: 'herald_engagement_events_total',
        help: 'Engagement events recorded (replays not counted), by kind, source and sender account (none when unmatched).',
        labelNames: ['kind', 'source', 'account'],
      }),
  );

  recorded(event: EngagementEvent): void {
    this.events.inc({ kind: event.kind, source: event.source, account: event.senderAccountId ?? 'none' });
  }
}
