import type { CircuitBreaker, CircuitKey, CircuitSnapshot } from '@herald/resilience';
import type { CircuitAccount, CircuitAccountType } from '@herald/sourcing';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { CliError, EXIT } from '../exit-codes';
import { isId, parseCount } from '../input';
import { table } from '../output';
import type { Run } from '../program';

const DEFAULT_OPEN_SECONDS = '60';

/**
 * `herald circuits [list]|open|close`: the fleet-wide breakers of libs/resilience, in Redis, one
 * per sender account and one per source account; Postgres says whose account each guards.
 */
export function registerCircuitCommands(program: Command, run: Run): void {
  const circuits = program
    .command('circuits')
    .description(
      'circuit breakers, one per sender account (<channel>:<id>) and source account (<kind>:<id>) (REDIS_URL, DATABASE_URL)',
    );
  circuits
    .command('list', { isDefault: true })
    .description(
      'every circuit that failed or was forced lately (any other is closed), with its kind and tenant',
    )
    .action((_options: unknown, command: Command) => run(command, listCircuits));
  circuits
    .command('open')
    .description(
      'hold a circuit open: nothing goes through that account meanwhile; its deliveries (or sourcing runs) wait',
    )
    .argument('<key>', '<channel>:<sender account id> or <kind>:<source account id>, e.g. webhook:0190f5e4-…')
    .option('--for <seconds>', 'how long (then one probe decides as usual)', DEFAULT_OPEN_SECONDS)
    .action((key: string, options: { for: string }, command: Command) =>
      run(command, (ctx) => openCircuit(ctx, key, parseCount(options.for, '--for', 86_400))),
    );
  circuits
    .command('close')
    .description('close a circuit and reset its backoff: sending (or searching) resumes at once')
    .argument('<key>', '<channel>:<sender account id> or <kind>:<source account id>')
    .action((key: string, _options: unknown, command: Command) =>
      run(command, (ctx) => closeCircuit(ctx, key)),
    );
}

async function listCircuits(ctx: CliContext): Promise<void> {
  const { circuits, view } = await breaker(ctx);
  const all = await circuits.list();
  const { circuitAccounts, circuitAccountType } = await import('@herald/sourcing');
  const accounts = await circuitAccounts(
    await ctx.database(),
    all.map((c) => c.key),
  );
  const data = all.flatMap((c) => {
    const type = circuitAccountType(c.key);
    // As the API: a key no account kind has is no circuit anything records.
    return type ? [view(c, type, accounts.get(keyOf(c.key)))] : [];
  });
  ctx.out.result({ data }, () => (data.length === 0 ? 'every circuit is closed' : renderCircuits(data)));
}

async function openCircuit(ctx: CliContext, raw: string, seconds: number): Promise<void> {
  const { key, type } = await circuitKey(raw);
  const account = await accountOf(ctx, key, type);
  const { circuits, view } = await breaker(ctx);
  await circuits.forceOpen(key, seconds * 1000);
  const circuit = view(await circuits.get(key), type, account);
  ctx.out.result(circuit, () => renderCircuits([circuit]));
}

async function closeCircuit(ctx: CliContext, raw: string): Promise<void> {
  const { key, type } = await circuitKey(raw);
  const account = await accountOf(ctx, key, type);
  const { circuits, view } = await breaker(ctx);
  await circuits.forceClose(key);
  const circuit = view(await circuits.get(key), type, account);
  ctx.out.result(circuit, () => renderCircuits([circuit]));
}

/** The fleet's breakers on the command's Redis connection, and how the CLI shows a circuit. */
async function breaker(ctx: CliContext): Promise<{
  circuits: CircuitBreaker;
  view: (c: CircuitSnapshot, type: CircuitAccountType, account: CircuitAccount | undefined) => CircuitView;
}> {
  const [redis, keys, { CircuitBreaker }, { SystemClock }] = await Promise.all([
    ctx.redis(),
    ctx.redisKeys(),
    import('@herald/resilience'),
    import('@herald/time'),
  ]);
  return {
    circuits: new CircuitBreaker({ redis, keys, clock: new SystemClock() }),
    view: (c, type, account) => ({
      key: keyOf(c.key),
      account_type: type,
      ...(type === 'sender'
        ? { channel: c.key.channel, sender_account_id: c.key.account }
        : { kind: c.key.channel, source_account_id: c.key.account }),
      // Null when the account is gone and its circuit not yet expired.
      tenant_id: account?.tenantId ?? null,
      account_name: account?.name ?? null,
      state: c.state,
      failures: c.failures,
      open_until: c.state === 'open' && c.openUntil > 0 ? new Date(c.openUntil).toISOString() : null,
      period_ms: c.periodMs,
    }),
  };
}

function keyOf(key: CircuitKey): string {
  return `${key.channel}:${key.account.toLowerCase()}`;
}

/**
 * `<channel>:<account uuid>` with a channel Herald has, or `<kind>:<account uuid>` with a source
 * kind; anything else is a usage error, before anything is reached.
 */
async function circuitKey(raw: string): Promise<{ key: CircuitKey; type: CircuitAccountType }> {
  const [{ parseCircuitKey }, { CHANNEL_NAMES }, { circuitAccountType, SOURCE_KINDS }] = await Promise.all([
    import('@herald/resilience'),
    import('@herald/channels'),
    import('@herald/sourcing'),
  ]);
  const parsed = parseCircuitKey(raw);
  const type = parsed && isId(parsed.account) ? circuitAccountType(parsed) : undefined;
  if (!parsed || !type) {
    throw new CliError(
      EXIT.usage,
      `not a circuit key: ${JSON.stringify(raw)} (expected <channel>:<sender account id> with a channel of ${CHANNEL_NAMES.join(', ')}, or <kind>:<source account id> with a kind of ${SOURCE_KINDS.join(', ')})`,
    );
  }
  return { key: { channel: parsed.channel, account: parsed.account.toLowerCase() }, type };
}

/** The account the circuit guards: forcing the circuit of no account would be a silent no-op. */
async function accountOf(
  ctx: CliContext,
  key: CircuitKey,
  type: CircuitAccountType,
): Promise<CircuitAccount> {
  const { circuitAccounts } = await import('@herald/sourcing');
  const account = (await circuitAccounts(await ctx.database(), [key])).get(keyOf(key));
  if (!account) {
    const what =
      type === 'sender' ? `sender account with channel ${key.channel}` : `${key.channel} source account`;
    throw new CliError(EXIT.notFound, `no circuit ${keyOf(key)}: no ${what} has the id ${key.account}`);
  }
  return account;
}

/** A circuit as GET /v1/admin/circuits shows it, with whose account it guards. */
type CircuitView = {
  key: string;
  account_type: CircuitAccountType;
  tenant_id: string | null;
  account_name: string | null;
  state: CircuitSnapshot['state'];
  failures: number;
  open_until: string | null;
  period_ms: number;
} & ({ channel: string; sender_account_id: string } | { kind: string; source_account_id: string });

function renderCircuits(circuits: readonly CircuitView[]): string {
  return table(
    ['key', 'kind', 'tenant', 'account', 'state', 'failures', 'open until', 'period ms'],
    circuits.map((c) => [
      c.key,
      c.account_type,
      c.tenant_id,
      c.account_name,
      c.state,
      c.failures,
      c.open_until,
      c.period_ms,
    ]),
  );
}
