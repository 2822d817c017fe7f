import type { Command } from 'commander';
import { runsGet, runsStart } from '@herald/api-client';
import { randomUUID } from 'node:crypto';
import { answer } from '../api-client';
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
  const started = await answer(
    runsStart({
      client: api.sdk,
      path: { id: campaignId },
      body: options.dryRun ? { dry_run: true } : {},
      headers: { 'Idempotency-Key': options.idempotencyKey ?? `herald-cli-${randomUUID()}` },
    }),
  );
  if (options.watch) return watchRun(ctx, api, started.id, intervalMs);
  const run: RunView = await answer(runsGet({ client: api.sdk, path: { id: started.id } }));
  ctx.out.result(run, () => renderRun(run));
}
