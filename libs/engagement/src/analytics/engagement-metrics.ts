import { Injectable } from '@nestjs/common';
import { HeraldMetrics } from '@herald/telemetry';
import type { EngagementEvent } from '../engagement-event';

/**
 * `herald_engagement_events_total{kind,source,account}`: events recorded for the first time
 * (a replay is not counted), machine ones included. Registered by HeraldMetrics so dashboards
 * read it from the start and an account's series leave with the account; `account` is the
 * sender account the event was matched to, or empty.
 */
@Injectable()
export class EngagementMetrics {
  private readonly metrics = new HeraldMetrics();

  recorded(event: EngagementEvent): void {
    this.metrics.countEngagementEvent(event.kind, event.source, event.senderAccountId);
  }
}
