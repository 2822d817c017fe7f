import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { TransactionRunner } from '@herald/persistence';
import { REDIS, RedisKeys } from '@herald/queues';
import type { RedisClient } from '@herald/queues';
import { PinoLogger } from 'nestjs-pino';
import type { EntityManager } from 'typeorm';
import { generateApiKey } from './api-key-format';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { ApiKeysRepository, type ApiKeyRecord } from './api-keys.repository';
import { LastAdminKeyError } from './errors';
import type { ApiKeyScope } from './principal';

export interface CreatedApiKey extends ApiKeyRecord {
  /** The whole key: returned once, never stored. */
  key: string;
}

/** The Redis marker that tells every api replica a key was revoked (checked with the rate limit, no extra round trip). */
export function revokedKeyMarker(keys: RedisKeys, keyId: string): string {
  return keys.key('api-keys', 'revoked', keyId);
}

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly tx: TransactionRunner,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly redisKeys: RedisKeys,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    private readonly logger: PinoLogger,
  ) {}

  async create(
    manager: EntityManager,
    tenantId: string,
    input: { name: string; scopes: readonly ApiKeyScope[] },
  ): Promise<CreatedApiKey> {
    const { prefix, key } = generateApiKey();
    const record = await this.keys.create(manager, tenantId, {
      name: input.name,
      prefix,
      secretHash: this.authenticator.hash(key),
      scopes: normaliseScopes(input.scopes),
    });
    return { ...record, key };
  }

  page(
    tenantId: string,
    after: { createdAt: Date; id: string } | null,
    limit: number,
  ): Promise<ApiKeyRecord[]> {
    return this.keys.page(tenantId, after, limit);
  }

  /** false when the tenant has no such key. Revoking twice is fine. Refuses to revoke the last admin key. */
  async revoke(tenantId: string, id: string): Promise<boolean> {
    const found = await this.tx.run(async (manager) => {
      const admins = await this.keys.lockActiveAdminKeyIds(manager, tenantId);
      const key = await this.keys.findById(manager, tenantId, id);
      if (!key) return false;
      if (key.revokedAt === null && admins.length === 1 && admins[0] === id) throw new LastAdminKeyError();
      await this.keys.revoke(manager, tenantId, id);
      return true;
    });
    if (found) {
      this.authenticator.evict(id);
      const ttl = Math.max(60_000, this.config.api.keyCacheTtlMs * 2);
      await this.redis
        .set(revokedKeyMarker(this.redisKeys, id), '1', 'PX', ttl)
        .catch((error: Error) =>
          this.logger.warn({ err: { message: error.message } }, 'revocation marker not published'),
        );
    }
    return found;
  }
}

/** Stored in a fixed order without repeats, so `["write","read","write"]` reads back as `["read","write"]`. */
export function normaliseScopes(scopes: readonly ApiKeyScope[]): ApiKeyScope[] {
  return (['read', 'write', 'admin'] as const).filter((s) => scopes.includes(s));
}
