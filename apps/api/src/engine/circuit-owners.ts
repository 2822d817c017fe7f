import { Injectable } from '@nestjs/common';
import { isUuid } from '@herald/contacts';
import { SenderAccountsRepository } from '@herald/deliveries';
import { formatCircuitKey, parseCircuitKey, type CircuitKey } from '@herald/resilience';
import { circuitAccountType, SourceAccountsRepository, type CircuitAccountType } from '@herald/sourcing';
import type { Principal } from '@herald/tenants';

/**
 * Whose circuits are whose: a tenant sees and forces the circuits of its own sender and source
 * accounts only; the platform, those of any account that exists.
 */
@Injectable()
export class CircuitOwners {
  constructor(
    private readonly senders: SenderAccountsRepository,
    private readonly sources: SourceAccountsRepository,
  ) {}

  /** The formatted keys of every circuit the tenant's accounts (both kinds) may have. */
  async keysOf(tenantId: string): Promise<Set<string>> {
    const [senders, sources] = await Promise.all([
      this.senders.channelsOf(tenantId),
      this.sources.kindsOf(tenantId),
    ]);
    return new Set([
      ...senders.map((a) => formatCircuitKey({ channel: a.channel, account: a.id })),
      ...sources.map((a) => formatCircuitKey({ channel: a.kind, account: a.id })),
    ]);
  }

  /** The circuit a path names, if the caller may touch it; undefined (a 404) for anyone else's. */
  async resolve(
    caller: Principal,
    raw: string,
  ): Promise<{ key: CircuitKey; type: CircuitAccountType } | undefined> {
    const parsed = parseCircuitKey(raw);
    if (!parsed || !isUuid(parsed.account)) return undefined;
    const key = { channel: parsed.channel, account: parsed.account.toLowerCase() };
    const type = circuitAccountType(key);
    if (!type) return undefined;
    // The account's own channel or kind, not just its id: `smtp:<a webhook account>` names no circuit.
    const prefix = await this.prefixOf(
      type,
      caller.kind === 'platform' ? null : caller.tenantId,
      key.account,
    );
    return prefix === key.channel ? { key, type } : undefined;
  }

  /** The channel (sender) or kind (source) of the account: the tenant's own, or any for the platform. */
  private async prefixOf(
    type: CircuitAccountType,
    tenantId: string | null,
    id: string,
  ): Promise<string | undefined> {
    if (type === 'sender') {
      const account = tenantId
        ? await this.senders.find(tenantId, id)
        : await this.senders.findInAnyTenant(id);
      return account?.channel;
    }
    const account = tenantId ? await this.sources.find(tenantId, id) : await this.sources.findInAnyTenant(id);
    return account?.kind;
  }
}
