import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ApiKeysService, type CreatedApiKey } from './api-keys.service';
import { TenantsRepository, type TenantRecord } from './tenants.repository';

@Injectable()
export class TenantsService {
  constructor(
    private readonly tenants: TenantsRepository,
    private readonly apiKeys: ApiKeysService,
  ) {}

  /** A tenant and its first key (every scope), in the caller's transaction. */
  async create(
    manager: EntityManager,
    input: { name: string; timeZone: string },
  ): Promise<{ tenant: TenantRecord; apiKey: CreatedApiKey }> {
    const tenant = await this.tenants.create(manager, input);
    const apiKey = await this.apiKeys.create(manager, tenant.id, {
      name: 'initial admin key',
      scopes: ['read', 'write', 'admin'],
    });
    return { tenant, apiKey };
  }
}
