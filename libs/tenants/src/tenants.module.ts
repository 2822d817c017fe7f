import { Module } from '@nestjs/common';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { TenantsRepository } from './tenants.repository';
import { TenantsService } from './tenants.service';

/** Tenants and their API keys. Needs the config, persistence and queues (Redis) modules from the root. */
@Module({
  providers: [TenantsRepository, ApiKeysRepository, ApiKeysService, ApiKeyAuthenticator, TenantsService],
  exports: [TenantsRepository, ApiKeysService, ApiKeyAuthenticator, TenantsService],
})
export class TenantsModule {}
