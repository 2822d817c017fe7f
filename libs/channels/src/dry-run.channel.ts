import type { Clock } from '@herald/time';
import type { Channel, OutboundMessage, SendOptions, SendResult } from './channel';
import { dryRunAccountConfigSchema, parseAccountConfig } from './config-schemas';
import { deliveryKeyDigest } from './message-id';

export interface DryRunRecord {
  readonly accountId: string;
  readonly idempotencyKey: string;
  readonly providerMessageId: string;
  readonly message: OutboundMessage;
  /** Epoch ms of the (pretend) send. */
  readonly at: number;
}

/**
 * Sends nothing: records what would have been sent in a bounded in-memory ring buffer and
 * answers with a synthetic provider id (stable per delivery key), so dry runs exercise the
 * whole pipeline (quota, breaker, ledger) without contacting anyone.
 */
export class DryRunChannel implements Channel {
  readonly name = 'dry-run' as const;
  private readonly ring: (DryRunRecord | undefined)[];
  private next = 0;
  private count = 0;

  constructor(
    private readonly clock: Clock,
    readonly capacity = 1000,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a whole number ≥ 1');
    this.ring = new Array<DryRunRecord | undefined>(capacity);
  }

  send(message: OutboundMessage, { idempotencyKey, account }: SendOptions): Promise<SendResult> {
    parseAccountConfig(dryRunAccountConfigSchema, 'dry-run', account.config ?? {});
    const providerMessageId = `dry-run:${deliveryKeyDigest(idempotencyKey)}`;
    this.ring[this.next] = {
      accountId: account.id,
      idempotencyKey,
      providerMessageId,
      message,
      at: this.clock.nowMs(),
    };
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
    return Promise.resolve({ providerMessageId });
  }

  /** The most recent records, oldest first (at most `capacity`). */
  recent(): DryRunRecord[] {
    const start = (this.next - this.count + this.capacity) % this.capacity;
    return Array.from({ length: this.count }, (_, i) => this.ring[(start + i) % this.capacity]).filter(
      (r): r is DryRunRecord => r !== undefined,
    );
  }

  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
    this.count = 0;
  }
}
