import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { parseInput } from '../input';
import { fields, table } from '../output';
import type { Run } from '../program';

/** `herald tenants create|list`: directly in Postgres, with the tenants lib's services. */
export function registerTenantCommands(program: Command, run: Run): void {
  const tenants = program
    .command('tenants')
    .description('create and list tenants (DATABASE_URL; create also needs the fleet secrets)');
  tenants
    .command('create')
    .description('create a tenant and its first admin API key (printed once)')
    .requiredOption('--name <name>', 'display name (1-200 characters)')
    .option('--time-zone <zone>', 'IANA time zone of its schedules and of "today"', 'UTC')
    .action((options: { name: string; timeZone: string }, command: Command) =>
      run(command, (ctx) => createTenant(ctx, options)),
    );
  tenants
    .command('list')
    .description('every tenant, oldest first, with its count of active API keys')
    .action((_options: unknown, command: Command) => run(command, listTenants));
}

async function createTenant(ctx: CliContext, options: { name: string; timeZone: string }): Promise<void> {
  const [{ plainText }, { timeZoneSchema }] = await Promise.all([
    import('@herald/contacts'),
    import('@herald/time'),
  ]);
  const name = parseInput(plainText(200), options.name, '--name');
  const timeZone = parseInput(timeZoneSchema, options.timeZone, '--time-zone');
  const [{ SHOWN_ONCE, tenantAdmin }, { tenantCreatedView }] = await Promise.all([
    import('./tenant-admin.js'),
    import('@herald/tenants'),
  ]);
  const admin = await tenantAdmin(ctx, { redis: false });
  const { tenant, apiKey } = await admin.tx.run((manager) =>
    admin.tenants.create(manager, { name, timeZone }),
  );
  const view = tenantCreatedView(tenant, apiKey);
  ctx.out.result(view, () =>
    fields([
      ['tenant', view.id],
      ['name', view.name],
      ['time zone', view.time_zone],
      ['api key id', view.api_key.id],
      ['scopes', view.api_key.scopes.join(', ')],
      ['api key', view.api_key.key],
    ]),
  );
  ctx.out.note(SHOWN_ONCE);
}

interface TenantRow {
  id: string;
  name: string;
  time_zone: string;
  created_at: Date;
  active_keys: number;
}

async function listTenants(ctx: CliContext): Promise<void> {
  const db = await ctx.database();
  const rows: TenantRow[] = await db.query(
    `SELECT t.id, t.name, t.time_zone, t.created_at,
            (SELECT count(*)::int FROM api_keys k WHERE k.tenant_id = t.id AND k.revoked_at IS NULL) AS active_keys
     FROM tenants t ORDER BY t.created_at, t.id`,
  );
  const data = rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() }));
  ctx.out.result({ data }, () =>
    data.length === 0
      ? 'no tenants yet: `herald tenants create --name <name>`'
      : table(
          ['id', 'name', 'time zone', 'created', 'active keys'],
          data.map((t) => [t.id, t.name, t.time_zone, t.created_at, t.active_keys]),
        ),
  );
}
