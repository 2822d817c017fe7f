import { Command, CommanderError, Option } from 'commander';
import { CliContext, type GlobalOptions } from './cli-context';
import { registerCampaignCommands } from './commands/campaigns.command';
import { registerCircuitCommands } from './commands/circuits.command';
import { registerContactCommands } from './commands/contacts.command';
import { registerDeliveryCommands } from './commands/deliveries.command';
import { registerHealthCommand } from './commands/health.command';
import { registerKeyCommands } from './commands/keys.command';
import { registerMigrateCommands } from './commands/migrate.command';
import { registerQueueCommands } from './commands/queues.command';
import { registerRunCommands } from './commands/runs.command';
import { registerSessionCommands } from './commands/sessions.command';
import { registerSourcingCommands } from './commands/sourcing.command';
import { registerTenantCommands } from './commands/tenants.command';
import { errorMessage } from './connections';
import { CliError, EXIT, type ExitCode } from './exit-codes';
import { Output, type CliIo } from './output';

/** A command's work: it writes its result through `ctx.out` and says how the process exits. */
export type Work = (ctx: CliContext) => Promise<ExitCode | void>;
/** Runs a command's work with the context built from its options (global ones included). */
export type Run = (command: Command, work: Work) => Promise<void>;

const HELP_FOOTER = `
Operator commands (migrate, tenants, keys, queues, failed, circuits, health) work on the
deployment's Postgres and Redis directly; tenant commands (contacts, campaigns, runs) go through
the HTTP API with a tenant key, deliveries with a tenant admin key or the platform admin key.
Results go to stdout (--json: one JSON document), progress and errors to stderr.

Exit codes: 0 ok · 1 the operation did not succeed (run failed or cancelled, health down,
migrations pending, request refused) · 2 usage or configuration error · 3 not found ·
4 Postgres, Redis or the API unreachable · 5 some imported rows were rejected.
See docs/cli.md.`;

/** The `herald` command tree. Command modules load their libraries only when they run. */
export function buildProgram(run: Run, io: CliIo): Command {
  const program = new Command('herald')
    .description(
      'Operate a Herald deployment: schema, tenants, keys, imports, runs, queues, breakers, health.',
    )
    .addOption(
      new Option('--api-url <url>', 'the Herald API (tenant commands)')
        .env('HERALD_API_URL')
        .default('http://127.0.0.1:3000'),
    )
    .addOption(new Option('--key <key>', 'a tenant API key (tenant commands)').env('HERALD_API_KEY'))
    .addOption(new Option('--database-url <url>', 'Postgres (operator commands)').env('DATABASE_URL'))
    .addOption(new Option('--redis-url <url>', 'Redis (operator commands)').env('REDIS_URL'))
    .addOption(
      new Option('--redis-cluster <nodes>', 'Redis Cluster seeds host:port,…').env('REDIS_CLUSTER_NODES'),
    )
    .addOption(
      new Option('--queue-prefix <prefix>', "the fleet's Redis key prefix (default herald)").env(
        'QUEUE_PREFIX',
      ),
    )
    .option('--json', 'print the result as one JSON document')
    .option('-V, --version', 'print the version')
    .allowExcessArguments()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .addHelpText('after', HELP_FOOTER);

  registerMigrateCommands(program, run);
  registerTenantCommands(program, run);
  registerKeyCommands(program, run);
  registerSessionCommands(program, run);
  registerContactCommands(program, run);
  registerCampaignCommands(program, run);
  registerRunCommands(program, run);
  registerSourcingCommands(program, run);
  registerDeliveryCommands(program, run);
  registerQueueCommands(program, run);
  registerCircuitCommands(program, run);
  registerHealthCommand(program, run);

  // Only reached without a known subcommand: the version, an unknown command, or nothing at all.
  program.action(async (options: { version?: boolean }, command: Command) => {
    if (options.version) {
      const { packageVersion } = await import('@herald/config');
      io.stdout.write(`${packageVersion()}\n`);
      return;
    }
    if (command.args.length > 0) program.error(`error: unknown command '${command.args[0]}'`);
    program.help({ error: true });
  });
  return program;
}

/** Parses `argv`, runs the command, closes its connections and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let context: CliContext | undefined;
  let code: ExitCode = EXIT.ok;
  const program = buildProgram(async (command, work) => {
    context = new CliContext(command.optsWithGlobals<GlobalOptions>(), io);
    code = (await work(context)) ?? EXIT.ok;
  }, io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    code = failure(error, context?.out ?? new Output(argv.includes('--json'), io));
  } finally {
    await context?.close();
  }
  return code;
}

function failure(error: unknown, out: Output): ExitCode {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return EXIT.ok; // --help, --version
    // Commander has already written its message (or the help) to stderr.
    const message =
      error.code === 'commander.help' ? 'no command given' : error.message.replace(/^error: /, '');
    out.error(new CliError(EXIT.usage, message), { shown: true });
    return EXIT.usage;
  }
  const cliError = error instanceof CliError ? error : new CliError(EXIT.failed, errorMessage(error));
  out.error(cliError);
  return cliError.exitCode;
}
