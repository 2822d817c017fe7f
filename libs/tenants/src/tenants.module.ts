import { Module } from '@nestjs/common';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { TelemetryModule } from '@herald/telemetry';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { TenantsRepository } from './tenants.repository';
import { TenantsService } from './tenants.service';

/** Tenants and their API keys. */
@Module({
  imports: [PersistenceModule, QueuesModule, TelemetryModule],
  providers: [TenantsRepository, ApiKeysRepository, ApiKeysService, ApiKeyAuthenticator, TenantsService],
  exports: [TenantsRepository, ApiKeysService, ApiKeyAuthenticator, TenantsService],
})
export class TenantsModule {}
