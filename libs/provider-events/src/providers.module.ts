import { Module } from '@nestjs/common';
import { ChannelsModule } from '@herald/channels';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { SequencesModule } from '@herald/sequences';
import { TelemetryModule } from '@herald/telemetry';
import { EngagementModule } from '@herald/engagement';
import { AccountHealth } from './account-health';
import { ProviderEventsService } from './provider-events.service';
import { ProviderMetrics } from './provider-metrics';
import { ProviderWebhooksRepository } from './provider-webhooks.repository';

/** Provider webhooks (SendGrid, SES via SNS, Postmark, Mailgun) and the sender account health they feed. */
@Module({
  imports: [
    ChannelsModule,
    PersistenceModule,
    QueuesModule,
    SequencesModule,
    TelemetryModule,
    EngagementModule,
  ],
  providers: [AccountHealth, ProviderEventsService, ProviderMetrics, ProviderWebhooksRepository],
  exports: [AccountHealth, ProviderEventsService, ProviderMetrics, ProviderWebhooksRepository],
})
export class ProviderEventsModule {}
