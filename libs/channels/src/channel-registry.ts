import { inClientSpan, type HeraldMetrics } from '@herald/telemetry';
import {
  CHANNEL_NAMES,
  type Channel,
  type ChannelName,
  type OutboundMessage,
  type SendOptions,
  type SendResult,
} from './channel';
import { ChannelError } from './channel-errors';

export class UnknownChannelError extends Error {
  constructor(readonly channel: string) {
    super(`unknown channel ${JSON.stringify(channel)}: expected one of ${CHANNEL_NAMES.join(', ')}`);
    this.name = 'UnknownChannelError';
  }
}

/**
 * The channels of this process by name. `get` hands out each channel wrapped with the
 * herald_channel_requests_total{channel,result} and herald_channel_request_duration_seconds
 * metrics and a client span (`<channel> send`), so every provider call is counted and traced
 * the same way.
 */
export class ChannelRegistry {
  private readonly channels = new Map<ChannelName, Channel>();

  constructor(channels: readonly Channel[], metrics?: HeraldMetrics) {
    for (const channel of channels) {
      if (this.channels.has(channel.name)) throw new Error(`channel ${channel.name} registered twice`);
      this.channels.set(channel.name, metrics ? instrument(channel, metrics) : channel);
    }
  }

  has(name: string): name is ChannelName {
    return this.channels.has(name as ChannelName);
  }

  /** The channel called `name`; throws UnknownChannelError when there is none. */
  get(name: string): Channel {
    const channel = this.channels.get(name as ChannelName);
    if (!channel) throw new UnknownChannelError(name);
    return channel;
  }

  names(): ChannelName[] {
    return [...this.channels.keys()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.channels.values()].map((c) => (c.close ? c.close() : Promise.resolve())));
  }
}

function instrument(channel: Channel, metrics: HeraldMetrics): Channel {
  return {
    name: channel.name,
    ...(channel.maxInFlight !== undefined ? { maxInFlight: channel.maxInFlight } : {}),
    close: channel.close?.bind(channel),
    async send(message: OutboundMessage, options: SendOptions): Promise<SendResult> {
      const stop = metrics.channelDuration.startTimer({ channel: channel.name });
      let result = 'ok';
      try {
        return await inClientSpan(`${channel.name} send`, { 'herald.channel': channel.name }, () =>
          channel.send(message, options),
        );
      } catch (error) {
        result = error instanceof ChannelError ? (error.transient ? 'transient' : 'permanent') : 'error';
        throw error;
      } finally {
        stop();
        metrics.channelRequests.inc({ channel: channel.name, result });
      }
    },
  };
}
