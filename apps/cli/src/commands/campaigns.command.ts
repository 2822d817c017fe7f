import type { Command } from 'commander';
import { campaignsList, runsGet, runsStart, type CampaignsListData } from '@herald/api-client';
import { randomUUID } from 'node:crypto';
import { answer } from '../api-client';
import type { CliContext } from '../cli-context';
import type { ExitCode } from '../exit-codes';
import { parseCount, parseId } from '../input';
import { table } from '../output';
import type { Run } from '../program';
import { renderRun, type RunView } from '../run-progress';
import { DEFAULT_POLL_MS, watchRun } from './runs.command';

interface RunOptions {
  dryRun?: boolean;
  watch?: boolean;
  idempotencyKey?: string;
  interval: string;
}

interface ListOptions {
  kind?: string;
  status?: string;
  limit: string;
  cursor?: string;
}

/** `herald campaigns list` and `herald campaigns run <campaign-id>`, through the API. */
export function registerCampaignCommands(program: Command, run: Run): void {
  const campaigns = program.command('campaigns').description('campaigns (through the API: HERALD_API_KEY)');
  campaigns
    .command('list')
    .description("the tenant's campaigns, oldest first (archived ones only with --status archived)")
    .option('--kind <kind>', 'only this kind: broadcast, birthday or sequence')
    .option('--status <status>', 'only this status: active, paused or archived')
    .option('--limit <n>', 'how many to show (1-1000)', '50')
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .action((options: ListOptions, command: Command) => run(command, (ctx) => listCampaigns(ctx, options)));
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

async function listCampaigns(ctx: CliContext, options: ListOptions): Promise<void> {
  const query = new URLSearchParams({ limit: String(parseCount(options.limit, '--limit', 1000)) });
  if (options.kind) query.set('kind', options.kind);
  if (options.status) query.set('status', options.status);
  if (options.cursor) query.set('cursor', options.cursor);
  // The api validates the filters (a bad --kind is its 400, with the field named).
  const filters = Object.fromEntries(query) as NonNullable<CampaignsListData['query']>;
  const page = await answer(campaignsList({ client: ctx.api().sdk, query: filters }));
  ctx.out.result(page, () => {
    if (page.data.length === 0) return 'no campaign yet';
    const rows = table(
      ['campaign', 'name', 'kind', 'status', 'scheduled', 'created'],
      page.data.map((c) => [c.id, c.name, c.kind, c.status, c.schedule ? 'yes' : 'no', c.created_at]),
    );
    const next = page.next_cursor ? `\nmore: herald campaigns list --cursor ${page.next_cursor}` : '';
    return `${rows}\nstart one: herald campaigns run <campaign> --watch${next}`;
  });
}
