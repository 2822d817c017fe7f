import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { runsGet } from '@herald/api-client';
import { answer, ApiError, type ApiClient } from '../api-client';
import type { CliContext } from '../cli-context';
import { EXIT, type ExitCode } from '../exit-codes';
import { parseCount, parseId } from '../input';
import type { Run } from '../program';
import { ProgressLine } from '../progress';
import { FINAL_RUN_STATUSES, progressText, renderRun, RunProgress, type RunView } from '../run-progress';

export const DEFAULT_POLL_MS = '1000';

/** `herald runs watch <run-id>`: live progress until the run ends. */
export function registerRunCommands(program: Command, run: Run): void {
  const runs = program.command('runs').description('campaign runs (through the API: HERALD_API_KEY)');
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
