import { TransactionRunner } from '@herald/persistence';
import {
  ApiKeyAuthenticator,
  ApiKeysRepository,
  ApiKeysService,
  apiKeyView,
  TenantsRepository,
  TenantsService,
  type ApiKeyRecord,
  type TenantRecord,
} from '@herald/tenants';
import { Redis } from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import type { CliContext } from '../cli-context';
import { CliError, EXIT } from '../exit-codes';

// Loaded by the tenants and keys commands when they run (it pulls in the tenants lib).

export interface TenantAdmin {
  tenants: TenantsService;
  tenantRecords: TenantsRepository;
  keys: ApiKeysService;
  tx: TransactionRunner;
}

/**
 * The tenants lib's own services, wired by hand on the command's connections (a Nest container
 * is no use to a process that lives a second), so keys are made, hashed and revoked by the code
 * the api runs. Hashing needs the fleet's pepper, hence its configuration; revoking needs Redis,
 * where the revocation marker reaches every api replica at once.
 */
export async function tenantAdmin(ctx: CliContext, needs: { redis: boolean }): Promise<TenantAdmin> {
  const config = await ctx.fleetConfig();
  const dataSource = await ctx.database();
  // Creating keys never touches Redis: a client that is never connected stands in.
  const redis = needs.redis ? await ctx.redis() : new Redis({ lazyConnect: true });
  const logger = new PinoLogger({ pinoHttp: [{ level: 'warn' }, ctx.out.stderr] });
  const tx = new TransactionRunner(dataSource);
  const keyRecords = new ApiKeysRepository(dataSource);
  const authenticator = new ApiKeyAuthenticator(keyRecords, config, logger);
  const keys = new ApiKeysService(
    keyRecords,
    authenticator,
    tx,
    redis,
    await ctx.redisKeys(),
    config,
    logger,
  );
  const tenantRecords = new TenantsRepository(dataSource);
  return { tenants: new TenantsService(tenantRecords, keys), tenantRecords, keys, tx };
}

/** The tenant, or exit 3. */
export async function existingTenant(tenants: TenantsRepository, id: string): Promise<TenantRecord> {
  const tenant = await tenants.findById(id);
  if (!tenant) throw new CliError(EXIT.notFound, `no tenant ${id}`);
  return tenant;
}

/** A key as the API shows it, and whose tenant it is (the CLI lists keys of any tenant). */
export function keyView(k: ApiKeyRecord) {
  return { ...apiKeyView(k), tenant_id: k.tenantId };
}

export const SHOWN_ONCE = 'the key is shown this once: store it now (Herald keeps only a keyed hash)';
