import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { CliError, EXIT, type ExitCode } from '../exit-codes';
import { table } from '../output';
import type { Run } from '../program';

type MigrationState = 'applied' | 'pending' | 'unknown';

/** `herald migrate [run|revert|status]`: the migrations of @herald/persistence, on DATABASE_URL. */
export function registerMigrateCommands(program: Command, run: Run): void {
  const migrate = program
    .command('migrate')
    .description('apply, revert or list the database migrations (DATABASE_URL)');
  migrate
    .command('run', { isDefault: true })
    .description('apply every pending migration, each in its own transaction (the default)')
    .action((_options: unknown, command: Command) => run(command, migrateRun));
  migrate
    .command('revert')
    .description('revert the last applied migration')
    .action((_options: unknown, command: Command) => run(command, migrateRevert));
  migrate
    .command('status')
    .description('list applied and pending migrations (exit 1 while some are pending)')
    .action((_options: unknown, command: Command) => run(command, migrateStatus));
}

async function migrateRun(ctx: CliContext): Promise<void> {
  const db = await ctx.database(0);
  const pending = (await migrationStates(ctx)).filter((m) => m.state === 'pending');
  if (pending.length > 0) ctx.out.note(`applying ${pending.length} migration(s)…`);
  const applied = await db.runMigrations({ transaction: 'each' });
  const names = applied.map((m) => m.name);
  ctx.out.result({ applied: names }, () =>
    names.length > 0 ? names.map((name) => `applied  ${name}`).join('\n') : 'schema is up to date',
  );
}

async function migrateRevert(ctx: CliContext): Promise<void> {
  const db = await ctx.database(0);
  const last = (await migrationStates(ctx)).filter((m) => m.state !== 'pending').at(-1);
  if (!last) throw new CliError(EXIT.failed, 'no migration has been applied: nothing to revert');
  await db.undoLastMigration({ transaction: 'each' });
  ctx.out.result({ reverted: last.name }, () => `reverted  ${last.name}`);
}

async function migrateStatus(ctx: CliContext): Promise<ExitCode> {
  const migrations = await migrationStates(ctx);
  const pending = migrations.filter((m) => m.state === 'pending').length;
  ctx.out.result({ migrations, pending }, () => {
    const summary = pending > 0 ? `${pending} pending: run \`herald migrate run\`` : 'schema is up to date';
    const unknown = migrations.some((m) => m.state === 'unknown')
      ? '\nunknown: applied to this database but not in this build (a newer release ran here)'
      : '';
    return `${table(
      ['migration', 'state'],
      migrations.map((m) => [m.name, m.state]),
    )}\n\n${summary}${unknown}`;
  });
  return pending > 0 ? EXIT.failed : EXIT.ok;
}

/** Every migration in order: those applied (as the database records them), then those pending. */
export async function migrationStates(ctx: CliContext): Promise<{ name: string; state: MigrationState }[]> {
  const db = await ctx.database();
  const { MigrationExecutor } = await import('typeorm');
  const executor = new MigrationExecutor(db);
  const [executed, pending] = await Promise.all([
    executor.getExecutedMigrations(),
    executor.getPendingMigrations(),
  ]);
  const known = new Set(db.migrations.map((m) => m.name ?? m.constructor.name));
  return [
    ...[...executed]
      .reverse()
      .map((m) => ({ name: m.name, state: known.has(m.name) ? ('applied' as const) : ('unknown' as const) })),
    ...pending.map((m) => ({ name: m.name, state: 'pending' as const })),
  ];
}
