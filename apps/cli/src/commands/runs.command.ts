import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { runsGet, runsList, type RunsListData } from '@herald/api-client';
import { answer, ApiError, type ApiClient } from '../api-client';
import type { CliContext } from '../cli-context';
import { EXIT, type ExitCode } from '../exit-codes';
import { parseCount, parseId } from '../input';
import { table } from '../output';
import type { Run } from '../program';
import { ProgressLine } from '../progress';
import { FINAL_RUN_STATUSES, progressText, renderRun, RunProgress, type RunView } from '../run-progress';

export const DEFAULT_POLL_MS = '1000';

interface ListOptions {
  status?: string;
  campaign?: string;
  limit: string;
  cursor?: string;
}

/** `herald runs list` (newest first) and `herald runs watch <run-id>` (live progress until the run ends). */
export function registerRunCommands(program: Command, run: Run): void {
  const runs = program.command('runs').description('campaign runs (through the API: HERALD_API_KEY)');
  runs
    .command('list')
    .description('runs, newest first, with their progress (--status running: the runs in flight)')
    .option('--status <status>', 'only this status: queued, running, completed, cancelled or failed')
    .option('--campaign <campaign-id>', 'only the runs of this campaign')
    .option('--limit <n>', 'how many to show (1-100)', '20')
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .action((options: ListOptions, command: Command) => run(command, (ctx) => listRuns(ctx, options)));
  runs
    .command('watch')
    .description('follow a run until it completes (exit 0), fails or is cancelled (exit 1)')
    .argument('<run-id>', 'the run')
    .option('--interval <ms>', 'time between polls', DEFAULT_POLL_MS)
    .action((runId: string, options: { interval: string }, command: Command) =>
      run(command, async (ctx) => {
        const id = parseId(runId, 'the run id');
        return watchRun(ctx, ctx.api(), id, parseCount(options.interval, '--interval', 60_000));
      }),
    );
}

/**
 * Polls GET /v1/runs/:id, redrawing the progress on stderr, and prints the final run. A 429
 * waits as the API asks; any other error ends the watch with its exit code.
 */
export async function watchRun(
  ctx: CliContext,
  api: ApiClient,
  runId: string,
  intervalMs: number,
): Promise<ExitCode> {
  const line = new ProgressLine(ctx.out.stderr, { tty: ctx.out.interactive, intervalMs: 5000 });
  const progress = new RunProgress();
  let run: RunView;
  for (;;) {
    try {
      run = await answer(runsGet({ client: api.sdk, path: { id: runId } }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 429) {
        await sleep(error.retryAfterMs ?? intervalMs);
        continue;
      }
      line.interrupt();
      throw error;
    }
    const text = progressText(run, progress.observe(run, Date.now()));
    if (FINAL_RUN_STATUSES.has(run.status)) {
      line.finish(text);
      break;
    }
    line.update(text);
    await sleep(intervalMs);
  }
  const final = run;
  ctx.out.result(final, () => renderRun(final));
  return final.status === 'completed' ? EXIT.ok : EXIT.failed;
}

async function listRuns(ctx: CliContext, options: ListOptions): Promise<void> {
  const query = new URLSearchParams({ limit: String(parseCount(options.limit, '--limit', 100)) });
  if (options.status) query.set('status', options.status);
  if (options.campaign) query.set('campaign_id', parseId(options.campaign, '--campaign'));
  if (options.cursor) query.set('cursor', options.cursor);
  // The api validates the filters (a bad --status is its 400, with the field named).
  const filters = Object.fromEntries(query) as NonNullable<RunsListData['query']>;
  const page = await answer(runsList({ client: ctx.api().sdk, query: filters }));
  ctx.out.result(page, () => {
    if (page.data.length === 0) return 'no run';
    const rows = table(
      ['run', 'campaign', 'status', 'sent', 'failed', 'deferred', 'targeted', 'eta', 'created'],
      page.data.map((r) => [
        r.id,
        r.campaign_id,
        r.dry_run ? `${r.status} (dry run)` : r.status,
        r.counts.sent,
        r.counts.failed,
        r.counts.deferred,
        r.counts.targeted,
        r.eta ? `${r.eta}${r.eta_reason ? ` (${r.eta_reason})` : ''}` : '',
        r.created_at,
      ]),
    );
    const next = page.next_cursor ? `\nmore: herald runs list --cursor ${page.next_cursor}` : '';
    return `${rows}\nfollow one: herald runs watch <run>${next}`;
  });
}
