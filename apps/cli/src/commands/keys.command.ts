import type { ApiKeyScope } from '@herald/tenants';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { CliError, EXIT } from '../exit-codes';
import { parseId, parseInput } from '../input';
import { fields, table } from '../output';
import type { Run } from '../program';
import type { RotateEncryptionOptions } from './rotate-encryption';

const PAGE = 1000;

interface TenantOption {
  tenant: string;
}

/**
 * `herald keys create|revoke|list --tenant <id>`: a tenant's API keys, directly in Postgres;
 * `herald keys rotate-encryption`: data at rest moved to the current encryption key.
 */
export function registerKeyCommands(program: Command, run: Run): void {
  const keys = program
    .command('keys')
    .description(
      "a tenant's API keys, and encryption key rotation (DATABASE_URL; all but list also need the fleet secrets)",
    );
  keys
    .command('create')
    .description('create an API key (its secret is printed once, on stdout)')
    .requiredOption('--tenant <id>', 'the tenant')
    .option(
      '--scopes <scopes>',
      'comma-separated: read, write, admin (each includes the ones before)',
      'read,write',
    )
    .option('--name <name>', 'what the key is for (1-100 characters)', 'created with the herald CLI')
    .action((options: TenantOption & { scopes: string; name: string }, command: Command) =>
      run(command, (ctx) => createKey(ctx, options)),
    );
  keys
    .command('revoke')
    .description('revoke a key at once on every api replica (not the last admin key)')
    .requiredOption('--tenant <id>', 'the tenant')
    .argument('<key-id>', 'the key to revoke')
    .action((keyId: string, options: TenantOption, command: Command) =>
      run(command, (ctx) => revokeKey(ctx, options.tenant, keyId)),
    );
  keys
    .command('list')
    .description("the tenant's keys, oldest first, revoked ones included (never their secrets)")
    .requiredOption('--tenant <id>', 'the tenant')
    .action((options: TenantOption, command: Command) =>
      run(command, (ctx) => listKeys(ctx, options.tenant)),
    );
  keys
    .command('rotate-encryption')
    .description(
      're-seal sender credentials and stored idempotency responses sealed with a previous encryption key, in batches, while the fleet runs',
    )
    .option('--batch-size <n>', 'rows per transaction (1-10000)', '500')
    .option('--dry-run', 'count what would be re-sealed, change nothing')
    .action((options: RotateEncryptionOptions, command: Command) =>
      run(command, async (ctx) => {
        const { rotateEncryptionCommand } = await import('./rotate-encryption.js');
        return rotateEncryptionCommand(ctx, options);
      }),
    );
}

async function createKey(ctx: CliContext, options: TenantOption & { scopes: string; name: string }) {
  const tenantId = parseId(options.tenant, '--tenant');
  const [{ plainText }, { API_KEY_SCOPES }] = await Promise.all([
    import('@herald/contacts'),
    import('@herald/tenants'),
  ]);
  const name = parseInput(plainText(100), options.name, '--name');
  const scopes = options.scopes.split(',').map((s) => s.trim());
  const unknown = scopes.filter((s) => !(API_KEY_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0 || scopes.length === 0) {
    throw new CliError(
      EXIT.usage,
      `--scopes must list read, write or admin (got ${JSON.stringify(options.scopes)})`,
    );
  }
  const [{ existingTenant, SHOWN_ONCE, tenantAdmin }, { createdApiKeyView }] = await Promise.all([
    import('./tenant-admin.js'),
    import('@herald/tenants'),
  ]);
  const admin = await tenantAdmin(ctx, { redis: false });
  await existingTenant(admin.tenantRecords, tenantId);
  const key = await admin.tx.run((manager) =>
    admin.keys.create(manager, tenantId, { name, scopes: scopes as ApiKeyScope[] }),
  );
  const view = { ...createdApiKeyView(key), tenant_id: key.tenantId };
  ctx.out.result(view, () =>
    fields([
      ['key id', view.id],
      ['tenant', view.tenant_id],
      ['name', view.name],
      ['scopes', view.scopes.join(', ')],
      ['key', view.key],
    ]),
  );
  ctx.out.note(SHOWN_ONCE);
}

async function revokeKey(ctx: CliContext, tenant: string, key: string): Promise<void> {
  const [tenantId, keyId] = [parseId(tenant, '--tenant'), parseId(key, 'the key id')];
  const [{ tenantAdmin }, { LastAdminKeyError }] = await Promise.all([
    import('./tenant-admin.js'),
    import('@herald/tenants'),
  ]);
  const admin = await tenantAdmin(ctx, { redis: true });
  let found: boolean;
  try {
    found = await admin.keys.revoke(tenantId, keyId);
  } catch (error) {
    if (error instanceof LastAdminKeyError) throw new CliError(EXIT.failed, error.message);
    throw error;
  }
  if (!found) throw new CliError(EXIT.notFound, `tenant ${tenantId} has no API key ${keyId}`);
  ctx.out.result({ id: keyId, tenant_id: tenantId, revoked: true }, () => `revoked  ${keyId}`);
}

async function listKeys(ctx: CliContext, tenant: string): Promise<void> {
  const tenantId = parseId(tenant, '--tenant');
  const db = await ctx.database();
  const [{ existingTenant, keyView }, { ApiKeysRepository, TenantsRepository }] = await Promise.all([
    import('./tenant-admin.js'),
    import('@herald/tenants'),
  ]);
  await existingTenant(new TenantsRepository(db), tenantId);
  const repository = new ApiKeysRepository(db);
  const records = [];
  for (let page = await repository.page(tenantId, null, PAGE); ;) {
    records.push(...page);
    const last = page.at(-1);
    if (page.length < PAGE || !last) break;
    page = await repository.page(tenantId, { createdAt: last.createdAt, id: last.id }, PAGE);
  }
  const data = records.map(keyView);
  ctx.out.result({ data }, () =>
    table(
      ['id', 'name', 'prefix', 'scopes', 'created', 'last used', 'revoked'],
      data.map((k) => [
        k.id,
        k.name,
        k.prefix,
        k.scopes.join(','),
        k.created_at,
        k.last_used_at,
        k.revoked_at,
      ]),
    ),
  );
}
