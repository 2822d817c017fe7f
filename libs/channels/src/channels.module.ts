import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { HeraldMetrics, TelemetryModule } from '@herald/telemetry';
import { CLOCK, TimeModule, type Clock } from '@herald/time';
import { ChannelRegistry } from './channel-registry';
import { CredentialCipher } from './credentials';
import { DryRunChannel } from './dry-run.channel';
import { OutboundGuard } from './outbound-guard';
import { SmtpChannel } from './smtp.channel';
import { WebhookChannel } from './webhook.channel';

/**
 * Provides the ChannelRegistry (smtp, webhook, dry-run; smtp and webhook share one
 * OutboundGuard) and the CredentialCipher. Closes SMTP pools on shutdown.
 */
@Module({
  imports: [TimeModule, TelemetryModule],
  providers: [
    {
      provide: ChannelRegistry,
      inject: [HERALD_CONFIG, CLOCK, HeraldMetrics],
      useFactory: (config: HeraldConfig, clock: Clock, metrics: HeraldMetrics) => {
        const guard = new OutboundGuard({
          allowPrivateNetworks: config.delivery.allowPrivateNetworks,
          hostOverrides: config.delivery.hostOverrides,
        });
        return new ChannelRegistry(
          [
            new SmtpChannel({
              guard,
              timeoutMs: config.delivery.smtpTimeoutMs,
            }),
            new WebhookChannel({
              guard,
              timeoutMs: config.delivery.webhookTimeoutMs,
              userAgent: `Herald/${config.app.version} (+webhook)`,
              clock,
            }),
            new DryRunChannel(clock),
          ],
          metrics,
        );
      },
    },
    {
      provide: CredentialCipher,
      inject: [HERALD_CONFIG],
      useFactory: (config: HeraldConfig) => CredentialCipher.fromConfig(config.security),
    },
  ],
  exports: [ChannelRegistry, CredentialCipher],
})
export class ChannelsModule implements OnApplicationShutdown {
  constructor(@Inject(ChannelRegistry) private readonly registry: ChannelRegistry) {}

  async onApplicationShutdown(): Promise<void> {
    await this.registry.close();
  }
}
