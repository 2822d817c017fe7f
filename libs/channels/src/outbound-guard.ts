import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isNonPublicAddress } from './address-guard';
import type { HostOverride } from '@herald/config';
import { findHostOverride } from './host-overrides';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a hostname to every address it has (injectable so tests need no DNS). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Why the guard let no connection happen: the name has no address, or one is not public. */
export type OutboundRefusal = 'dns' | 'address_refused';

export class OutboundAddressError extends Error {
  constructor(
    readonly reason: OutboundRefusal,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutboundAddressError';
  }
}

export interface OutboundGuardOptions {
  /** OUTBOUND_ALLOW_PRIVATE_NETWORKS: development and tests only. */
  readonly allowPrivateNetworks: boolean;
  /** Hostname resolution (the system's by default); tests inject one to need no DNS. */
  readonly resolve?: HostResolver;
  /** OUTBOUND_HOST_OVERRIDES: fixed answers for names (the local fake web), still vetted. */
  readonly hostOverrides?: readonly HostOverride[];
}

/** Addresses the guard let through: at least one, each an IP literal. */
export type VettedAddresses = readonly [ResolvedAddress, ...ResolvedAddress[]];

/**
 * The one check every outbound connection to a tenant-chosen host passes (SSRF guard). The
 * name is resolved once and refused if any of its addresses is not public, unless private
 * networks are allowed. The caller connects to one of the returned addresses and never
 * resolves the name again, so a DNS answer that changes between check and connect (rebinding)
 * cannot redirect the connection.
 */
export class OutboundGuard {
  private readonly resolve: HostResolver;

  constructor(private readonly options: OutboundGuardOptions) {
    this.resolve = options.resolve ?? systemResolver;
  }

  /** `host` is a name or an IP literal (IPv6 with or without brackets). */
  async vet(host: string): Promise<VettedAddresses> {
    const name = host.replace(/^\[(.*)\]$/, '$1');
    const addresses = await this.addressesOf(name);
    if (!this.options.allowPrivateNetworks) {
      const refused = addresses.find((a) => isNonPublicAddress(a.address));
      if (refused) {
        const where = refused.address === name ? name : `${name} (${refused.address})`;
        throw new OutboundAddressError(
          'address_refused',
          `${where} is not a public address; OUTBOUND_ALLOW_PRIVATE_NETWORKS=true allows it, in development only`,
        );
      }
    }
    return addresses;
  }

  private async addressesOf(name: string): Promise<VettedAddresses> {
    const literal = isIP(name);
    if (literal !== 0) return [{ address: name, family: literal === 6 ? 6 : 4 }];
    const override = findHostOverride(this.options.hostOverrides ?? [], name);
    if (override) return [{ address: override.address, family: override.family }];
    let answer: ResolvedAddress[];
    try {
      answer = await this.resolve(name);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const why = typeof code === 'string' && /^[A-Z_]{1,32}$/.test(code) ? ` (${code})` : '';
      throw new OutboundAddressError('dns', `${name} did not resolve${why}`, { cause: error });
    }
    // Only IP literals: anything else would be resolved again by whoever connects.
    const [first, ...rest] = answer.filter((a) => isIP(a.address) !== 0);
    if (!first) throw new OutboundAddressError('dns', `${name} has no address`);
    return [first, ...rest];
  }
}
