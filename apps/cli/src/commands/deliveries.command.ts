import { deliveriesClose, deliveriesList, deliveriesResend } from '@herald/api-client';
import type { Command } from 'commander';
import { answer } from '../api-client';
import type { CliContext } from '../cli-context';
import { CliError, EXIT } from '../exit-codes';
import { parseCount, parseId } from '../input';
import { fields, table } from '../output';
import type { Run } from '../program';

/** A delivery as GET /v1/deliveries answers it. */
interface DeliveryView {
  id: string;
  tenant_id: string;
  delivery_key: string;
  run_id: string | null;
  channel: string;
  status: string;
  attempts: number;
  last_error: string | null;
  updated_at: string;
}

const OUTCOMES = ['sent', 'failed'] as const;

/**
 * `herald deliveries unknown|resend|close`: the deliveries a crash left with an unknown outcome
 * (held for an operator where the account is at-most-once, SMTP by default), through the API
 * with a tenant admin key (its tenant) or the platform admin key (every tenant).
 */
export function registerDeliveryCommands(program: Command, run: Run): void {
  const deliveries = program
    .command('deliveries')
    .description('deliveries whose outcome is unknown (through the API: an admin or the platform key)');
  deliveries
    .command('unknown')
    .description('list deliveries held as unknown, oldest first: each waits for resend or close')
    .option('--limit <n>', 'how many to show (1-1000)', '50')
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .action((options: { limit: string; cursor?: string }, command: Command) =>
      run(command, (ctx) => listUnknown(ctx, parseCount(options.limit, '--limit', 1000), options.cursor)),
    );
  deliveries
    .command('resend')
    .description('send an unknown delivery again, with the same key (an SMTP recipient may get two copies)')
    .argument('<delivery-id>', 'the delivery')
    .option('--reason <text>', 'why (kept on the delivery until it is sent)')
    .action((id: string, options: { reason?: string }, command: Command) =>
      run(command, (ctx) =>
        act(ctx, id, 'resend', options.reason !== undefined ? { reason: options.reason } : {}),
      ),
    );
  deliveries
    .command('close')
    .description('settle an unknown delivery without sending it: as sent (the provider has it) or failed')
    .argument('<delivery-id>', 'the delivery')
    .requiredOption('--outcome <sent|failed>', 'what the operator found')
    .requiredOption('--reason <text>', 'why (kept in the ledger and the contact’s interactions)')
    .action((id: string, options: { outcome: string; reason: string }, command: Command) =>
      run(command, (ctx) => {
        if (!(OUTCOMES as readonly string[]).includes(options.outcome))
          throw new CliError(
            EXIT.usage,
            `--outcome must be sent or failed, not ${JSON.stringify(options.outcome)}`,
          );
        return act(ctx, id, 'close', { outcome: options.outcome, reason: options.reason });
      }),
    );
}

async function listUnknown(ctx: CliContext, limit: number, cursor: string | undefined): Promise<void> {
  const page = await answer(
    deliveriesList({
      client: ctx.api().sdk,
      query: { status: 'unknown', limit: String(limit), ...(cursor ? { cursor } : {}) },
    }),
  );
  ctx.out.result(page, () => {
    if (page.data.length === 0) return 'no delivery is waiting for an operator';
    const rows = table(
      ['delivery', 'tenant', 'channel', 'attempts', 'since'],
      page.data.map((d) => [d.id, d.tenant_id, d.channel, d.attempts, d.updated_at]),
    );
    const next = page.next_cursor ? `\nmore: herald deliveries unknown --cursor ${page.next_cursor}` : '';
    return `${rows}\nresend: herald deliveries resend <delivery> · close: herald deliveries close <delivery> --outcome sent|failed --reason …${next}`;
  });
}

async function act(
  ctx: CliContext,
  raw: string,
  action: 'resend' | 'close',
  body: Record<string, string>,
): Promise<void> {
  const id = parseId(raw, 'the delivery id');
  const client = ctx.api().sdk;
  const delivery: DeliveryView =
    action === 'resend'
      ? await answer(deliveriesResend({ client, path: { id }, body }))
      : await answer(
          deliveriesClose({
            client,
            path: { id },
            body: body as { outcome: 'sent' | 'failed'; reason: string },
          }),
        );
  ctx.out.result(delivery, () =>
    fields([
      ['delivery', delivery.id],
      ['status', delivery.status],
      ['attempts', delivery.attempts],
      ['note', delivery.last_error],
    ]),
  );
}
