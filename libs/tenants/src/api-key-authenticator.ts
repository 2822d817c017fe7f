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
const NO_HASH = Buffer.alloc(32);

/**
 * Verifies tenant API keys. A verified lookup is reused for API_KEY_CACHE_TTL_MS (the hash is
 * still compared on every request, in constant time); revocation evicts it here at once and on
 * other replicas through the Redis marker the rate limiter checks. `last_used_at` is written in
 * one batched UPDATE every API_KEY_LAST_USED_FLUSH_MS, never once per request.
 *
 * Peppers rotate: a key whose stored hash was made with a previous pepper still authenticates,
 * and is then re-hashed with the current one (one guarded UPDATE, once per key and replica);
 * a key already on the current pepper costs no write.
 */
@Injectable()
export class ApiKeyAuthenticator implements OnModuleInit, BeforeApplicationShutdown {
  private readonly cache = new Map<string, { credential: ApiKeyCredential | null; expiresAt: number }>();
  private readonly lastUsed = new Map<string, { tenantId: string; id: string; at: Date }>();
  private timer: NodeJS.Timeout | undefined;
  /** Current first. Imported once: building the HMAC key from bytes on every request costs more than the HMAC. */
  private readonly peppers: readonly KeyObject[];

  constructor(
    private readonly keys: ApiKeysRepository,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly logger: PinoLogger,
  ) {
    const { current, previous } = config.api.keyPeppers;
    this.peppers = [current, ...previous].map((pepper) => createSecretKey(pepper.reveal()));
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flushLastUsed(), this.config.api.keyLastUsedFlushMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushLastUsed();
  }

  /** The hash stored for a new key: with the current pepper. */
  hash(key: string): Buffer {
    return hashApiKey(this.peppers[0]!, key);
  }

  async authenticate(presented: string): Promise<AuthenticationResult> {
    const parsed = parseApiKey(presented);
    if (!parsed) return { ok: false, reason: 'malformed' };
    const credential = await this.lookup(parsed.prefix);
    // Hash with every pepper, even when the prefix is unknown or the first one matches, so
    // timing tells neither known prefixes nor the pepper of a key apart.
    const expected = credential?.secretHash ?? NO_HASH;
    let matched = -1;
    this.peppers.forEach((pepper, i) => {
      if (timingSafeEqual(hashApiKey(pepper, presented), expected) && matched === -1) matched = i;
    });
    if (matched === -1 || credential === null) return { ok: false, reason: 'unknown' };
    if (credential.revoked) return { ok: false, reason: 'revoked' };
    if (matched > 0) await this.rehash(parsed.prefix, credential, presented);
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

  /**
   * Moves a key that matched a previous pepper to the current one. Guarded by the hash it
   * replaces, so a concurrent re-hash (another replica) or change wins; the cached lookup follows,
   * so this replica writes once per key. A failure costs nothing but a retry on the next use.
   */
  private async rehash(prefix: string, credential: ApiKeyCredential, presented: string): Promise<void> {
    const fresh = this.hash(presented);
    try {
      const replaced = await this.keys.replaceSecretHash(credential, fresh);
      const cached = this.cache.get(prefix);
      if (replaced && cached?.credential?.id === credential.id) {
        cached.credential = { ...credential, secretHash: fresh };
      } else if (!replaced) {
        this.cache.delete(prefix);
      }
    } catch (error) {
      this.logger.warn({ err: { message: (error as Error).message } }, 'could not re-hash an api key');
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
