import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { PinoLogger } from 'nestjs-pino';
import { createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { hashApiKey, parseApiKey } from './api-key-format';
import { ApiKeysRepository, type ApiKeyCredential } from './api-keys.repository';
import type { TenantPrincipal } from './principal';

export type AuthenticationResult =
  { ok: true; principal: TenantPrincipal } | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' };

const CACHE_LIMIT = 10_000;

/**
 * Verifies tenant API keys. A verified lookup is reused for API_KEY_CACHE_TTL_MS (the hash is
 * still compared on every request, in constant time); revocation evicts it here at once and on
 * other replicas through the Redis marker the rate limiter checks. `last_used_at` is written in
 * one batched UPDATE every API_KEY_LAST_USED_FLUSH_MS, never once per request.
 */
@Injectable()
export class ApiKeyAuthenticator implements OnModuleInit, BeforeApplicationShutdown {
  private readonly cache = new Map<string, { credential: ApiKeyCredential | null; expiresAt: number }>();
  private readonly lastUsed = new Map<string, { tenantId: string; id: string; at: Date }>();
  private timer: NodeJS.Timeout | undefined;
  /** Imported once: building the HMAC key from bytes on every request costs more than the HMAC. */
  private readonly pepper: KeyObject;

  constructor(
    private readonly keys: ApiKeysRepository,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly logger: PinoLogger,
  ) {
    this.pepper = createSecretKey(config.api.keyPepper.reveal());
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flushLastUsed(), this.config.api.keyLastUsedFlushMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushLastUsed();
  }

  hash(key: string): Buffer {
    return hashApiKey(this.pepper, key);
  }

  async authenticate(presented: string): Promise<AuthenticationResult> {
    const parsed = parseApiKey(presented);
    if (!parsed) return { ok: false, reason: 'malformed' };
    const credential = await this.lookup(parsed.prefix);
    // Compare even when the prefix is unknown, so timing does not tell known prefixes apart.
    const expected = credential?.secretHash ?? Buffer.alloc(32);
    const matches = timingSafeEqual(this.hash(presented), expected) && credential !== null;
    if (!matches) return { ok: false, reason: 'unknown' };
    if (credential.revoked) return { ok: false, reason: 'revoked' };
    this.lastUsed.set(credential.id, { tenantId: credential.tenantId, id: credential.id, at: new Date() });
    return {
      ok: true,
      principal: {
        kind: 'tenant',
        tenantId: credential.tenantId,
        tenantTimeZone: credential.tenantTimeZone,
        keyId: credential.id,
        scopes: credential.scopes,
      },
    };
  }

  /** Forget what this process knows about a key (after a revocation, here or elsewhere). */
  evict(keyId: string): void {
    for (const [prefix, entry] of this.cache) {
      if (entry.credential?.id === keyId) this.cache.delete(prefix);
    }
  }

  async flushLastUsed(): Promise<void> {
    if (this.lastUsed.size === 0) return;
    const seen = [...this.lastUsed.values()];
    this.lastUsed.clear();
    try {
      await this.keys.recordLastUsed(seen);
    } catch (error) {
      // Best effort: a missed flush costs precision of last_used_at, never a request.
      this.logger.warn({ err: { message: (error as Error).message } }, 'could not record api key use');
    }
  }

  private async lookup(prefix: string): Promise<ApiKeyCredential | null> {
    const ttl = this.config.api.keyCacheTtlMs;
    const now = Date.now();
    const cached = this.cache.get(prefix);
    if (cached && cached.expiresAt > now) return cached.credential;
    const credential = await this.keys.findCredentialByPrefix(prefix);
    if (ttl > 0) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(prefix, { credential, expiresAt: now + ttl });
    }
    return credential;
  }
}
