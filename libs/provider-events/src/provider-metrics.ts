import { Injectable } from '@nestjs/common';
import { getOrCreateMetric } from '@herald/telemetry';
import { Counter } from 'prom-client';
import { PROVIDERS } from './provider-event';

/**
 * recorded | replay | unmatched | ignored per event; bad_signature | replay | invalid per
 * refused request (a Mailgun token or SendGrid timestamp seen again counts as replay).
 */
export const PROVIDER_EVENT_OUTCOMES = [
  'recorded',
  'replay',
  'unmatched',
  'ignored',
  'bad_signature',
  'invalid',
] as const;
export type ProviderEventOutcome = (typeof PROVIDER_EVENT_OUTCOMES)[number];

/** Provider webhook and account health metrics (the alert rules read these names). */
@Injectable()
export class ProviderMetrics {
  readonly events = getOrCreateMetric(
    'herald_provider_events_total',
    () =>
      new Counter({
        name: 'herald_provider_events_total',
        help: 'Provider webhook events by provider and outcome: recorded, replay (already recorded, or a replayed request), unmatched (no delivery of the tenant), ignored (a type Herald does not record), bad_signature, invalid.',
        labelNames: ['provider', 'outcome'],
      }),
  );
  readonly paused = getOrCreateMetric(
    'herald_sender_account_paused_total',
    () =>
      new Counter({
        name: 'herald_sender_account_paused_total',
        help: 'Sender accounts paused by account health, by account and reason (bounce_rate, complaint_rate).',
        labelNames: ['account', 'reason'],
      }),
  );
  readonly healthEvents = getOrCreateMetric(
    'herald_sender_account_health_events_total',
    () =>
      new Counter({
        name: 'herald_sender_account_health_events_total',
        help: 'Provider events that count toward a sender account’s health, by account and kind (delivered, hard_bounce, complaint): rates are ratios of these.',
        labelNames: ['account', 'kind'],
      }),
  );

  constructor() {
    // Every provider × outcome series exists from the start at 0, so rates and alerts see the
    // first bad signature as an increase rather than a new series.
    for (const provider of PROVIDERS) {
      for (const outcome of PROVIDER_EVENT_OUTCOMES) this.events.inc({ provider, outcome }, 0);
    }
  }
}
