import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import type { CliContext } from '../cli-context';
import type { ExitCode } from '../exit-codes';
import { parseCount, parseId } from '../input';
import type { Run } from '../program';
import { renderRun, type RunView } from '../run-progress';
import { DEFAULT_POLL_MS, watchRun } from './runs.command';

interface RunOptions {
  dryRun?: boolean;
  watch?: boolean;
  idempotencyKey?: string;
  interval: string;
}

/** `herald campaigns run <campaign-id>`: starts a run through the API. */
export function registerCampaignCommands(program: Command, run: Run): void {
  const campaigns = program.command('campaigns').description('campaigns (through the API: HERALD_API_KEY)');
  campaigns
    .command('run')
    .description('start a run of a broadcast campaign and print it')
    .argument('<campaign-id>', 'the campaign')
    .option('--dry-run', 'only count the audience; send nothing')
    .option('--watch', 'follow the run until it ends (exit codes as `runs watch`)')
    .option(
      '--idempotency-key <key>',
      'reuse a key to make a retried command return the same run (default: a new one)',
    )
    .option('--interval <ms>', 'time between polls with --watch', DEFAULT_POLL_MS)
    .action((campaignId: string, options: RunOptions, command: Command) =>
      run(command, (ctx) => startRun(ctx, campaignId, options)),
    );
}

async function startRun(ctx: CliContext, campaign: string, options: RunOptions): Promise<ExitCode | void> {
  const campaignId = parseId(campaign, 'the campaign id');
  const intervalMs = parseCount(options.interval, '--interval', 60_000);
  const api = ctx.api();
  const started = await api.post<{ id: string }>(
    `v1/campaigns/${campaignId}/runs`,
    options.dryRun ? { dry_run: true } : {},
    { 'idempotency-key': options.idempotencyKey ?? `herald-cli-${randomUUID()}` },
  );
  if (options.watch) return watchRun(ctx, api, started.id, intervalMs);
  const run = await api.get<RunView>(`v1/runs/${started.id}`);
  ctx.out.result(run, () => renderRun(run));
}
