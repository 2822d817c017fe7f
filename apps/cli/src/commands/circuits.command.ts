import type { CircuitBreaker, CircuitKey, CircuitSnapshot } from '@herald/resilience';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { CliError, EXIT } from '../exit-codes';
import { isId, parseCount } from '../input';
import { table } from '../output';
import type { Run } from '../program';

const DEFAULT_OPEN_SECONDS = '60';

/** `herald circuits [list]|open|close`: the fleet-wide breakers of libs/resilience, in Redis. */
export function registerCircuitCommands(program: Command, run: Run): void {
  const circuits = program
    .command('circuits')
    .description('circuit breakers, one per channel and sender account (REDIS_URL)');
  circuits
    .command('list', { isDefault: true })
    .description('every circuit that failed or was forced lately (any other is closed)')
    .action((_options: unknown, command: Command) => run(command, listCircuits));
  circuits
    .command('open')
    .description('hold a circuit open: nothing is sent through that account meanwhile; its deliveries wait')
    .argument('<key>', '<channel>:<sender account id>, e.g. webhook:0190f5e4-…')
    .option('--for <seconds>', 'how long (then one probe decides as usual)', DEFAULT_OPEN_SECONDS)
    .action((key: string, options: { for: string }, command: Command) =>
      run(command, (ctx) => openCircuit(ctx, key, parseCount(options.for, '--for', 86_400))),
    );
  circuits
    .command('close')
    .description('close a circuit and reset its backoff: sending resumes at once')
    .argument('<key>', '<channel>:<sender account id>')
    .action((key: string, _options: unknown, command: Command) =>
      run(command, (ctx) => closeCircuit(ctx, key)),
    );
}

async function listCircuits(ctx: CliContext): Promise<void> {
  const { circuits, view } = await breaker(ctx);
  const data = (await circuits.list()).map(view);
  ctx.out.result({ data }, () => (data.length === 0 ? 'every circuit is closed' : renderCircuits(data)));
}

async function openCircuit(ctx: CliContext, raw: string, seconds: number): Promise<void> {
  const key = await circuitKey(raw);
  const { circuits, view } = await breaker(ctx);
  await circuits.forceOpen(key, seconds * 1000);
  const circuit = view(await circuits.get(key));
  ctx.out.result(circuit, () => renderCircuits([circuit]));
}

async function closeCircuit(ctx: CliContext, raw: string): Promise<void> {
  const key = await circuitKey(raw);
  const { circuits, view } = await breaker(ctx);
  await circuits.forceClose(key);
  const circuit = view(await circuits.get(key));
  ctx.out.result(circuit, () => renderCircuits([circuit]));
}

/** The fleet's breakers on the command's Redis connection, and how the API shows a circuit. */
async function breaker(
  ctx: CliContext,
): Promise<{ circuits: CircuitBreaker; view: (c: CircuitSnapshot) => CircuitView }> {
  const [redis, keys, { CircuitBreaker, formatCircuitKey }, { SystemClock }] = await Promise.all([
    ctx.redis(),
    ctx.redisKeys(),
    import('@herald/resilience'),
    import('@herald/time'),
  ]);
  return {
    circuits: new CircuitBreaker({ redis, keys, clock: new SystemClock() }),
    view: (c) => ({
      key: formatCircuitKey(c.key),
      channel: c.key.channel,
      sender_account_id: c.key.account,
      state: c.state,
      failures: c.failures,
      open_until: c.state === 'open' && c.openUntil > 0 ? new Date(c.openUntil).toISOString() : null,
      period_ms: c.periodMs,
    }),
  };
}

/** `<channel>:<account uuid>` with a channel Herald has; anything else is a usage error. */
async function circuitKey(raw: string): Promise<CircuitKey> {
  const [{ parseCircuitKey }, { CHANNEL_NAMES }] = await Promise.all([
    import('@herald/resilience'),
    import('@herald/channels'),
  ]);
  const key = parseCircuitKey(raw);
  if (!key || !(CHANNEL_NAMES as readonly string[]).includes(key.channel) || !isId(key.account)) {
    throw new CliError(
      EXIT.usage,
      `not a circuit key: ${JSON.stringify(raw)} (expected <channel>:<sender account id>, channel one of ${CHANNEL_NAMES.join(', ')})`,
    );
  }
  return { channel: key.channel, account: key.account.toLowerCase() };
}

/** A circuit as GET /v1/admin/circuits shows it. */
interface CircuitView {
  key: string;
  channel: string;
  sender_account_id: string;
  state: CircuitSnapshot['state'];
  failures: number;
  open_until: string | null;
  period_ms: number;
}

function renderCircuits(circuits: readonly CircuitView[]): string {
  return table(
    ['key', 'state', 'failures', 'open until', 'period ms'],
    circuits.map((c) => [c.key, c.state, c.failures, c.open_until, c.period_ms]),
  );
}
