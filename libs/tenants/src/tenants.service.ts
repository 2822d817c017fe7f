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
    input: { name: string; timeZone: string; deliveryWeight?: number },
  ): Promise<{ tenant: TenantRecord; apiKey: CreatedApiKey }> {
    const tenant = await this.tenants.create(manager, input);
    const apiKey = await this.apiKeys.create(manager, tenant.id, {
      name: 'initial admin key',
      scopes: ['read', 'write', 'admin'],
    });
    return { tenant, apiKey };
  }

  /** Changes what is given (the delivery weight); null when there is no such tenant. */
  update(
    manager: EntityManager,
    id: string,
    input: { deliveryWeight?: number },
  ): Promise<TenantRecord | null> {
    return this.tenants.update(manager, id, input);
  }

  /** Every tenant, oldest first: `limit + 1` rows when there is a next page (see keysetPage). */
  page(after: { createdAt: Date; id: string } | null, limit: number): Promise<TenantRecord[]> {
    return this.tenants.page(after, limit);
  }
}
