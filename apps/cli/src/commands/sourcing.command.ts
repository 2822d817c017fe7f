import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  sourcingJobsCreate,
  sourcingJobsList,
  sourcingJobsStartRun,
  sourcingRunsCancel,
  sourcingRunsCandidates,
  sourcingRunsGet,
  sourcingRunsPause,
  sourcingRunsResume,
  type SourcingJobsCreateData,
  type SourcingRunsGetResponse,
} from '@herald/api-client';
import { answer } from '../api-client';
import { CliError, EXIT } from '../exit-codes';
import { parseCount, parseId } from '../input';
import { table } from '../output';
import type { Run } from '../program';

type SourcingRun = SourcingRunsGetResponse;

/**
 * `herald sourcing jobs create|list`, `herald sourcing runs start|show|pause|resume|cancel` and
 * `herald sourcing candidates list`, through the API with a tenant key.
 */
export function registerSourcingCommands(program: Command, run: Run): void {
  const sourcing = program.command('sourcing').description('finding leads (through the API: HERALD_API_KEY)');
  const jobs = sourcing.command('jobs').description('sourcing jobs');
  jobs
    .command('create')
    .description('create a sourcing job from a JSON file (the body of POST /v1/sourcing-jobs; - reads stdin)')
    .argument('<file>', 'the job as JSON')
    .action((file: string, _options: unknown, command: Command) =>
      run(command, async (ctx) => {
        const body = readJson(file) as SourcingJobsCreateData['body'];
        const job = await answer(
          sourcingJobsCreate({
            client: ctx.api().sdk,
            body,
            headers: { 'Idempotency-Key': `herald-cli-${randomUUID()}` },
          }),
        );
        ctx.out.result(job, () => `sourcing job ${job.id} created: ${job.name} (limit ${job.limit})`);
      }),
    );
  jobs
    .command('list')
    .description("the tenant's sourcing jobs, oldest first")
    .option('--status <status>', 'active or archived')
    .option('--limit <n>', 'how many to show (1-1000)', '50')
    .action((options: { status?: string; limit: string }, command: Command) =>
      run(command, async (ctx) => {
        const query: Record<string, string> = { limit: String(parseCount(options.limit, '--limit', 1000)) };
        if (options.status) query.status = options.status;
        const page = await answer(sourcingJobsList({ client: ctx.api().sdk, query: query }));
        ctx.out.result(page, () =>
          page.data.length === 0
            ? 'no sourcing job yet'
            : table(
                ['job', 'name', 'limit', 'schedule', 'status'],
                page.data.map((j) => [
                  j.id,
                  j.name,
                  j.limit,
                  j.schedule ? JSON.stringify(j.schedule) : '',
                  j.status,
                ]),
              ),
        );
      }),
    );

  const runs = sourcing.command('runs').description('sourcing runs');
  runs
    .command('start')
    .description('start a run of a sourcing job and print it')
    .argument('<job-id>', 'the sourcing job')
    .option('--dry-run', 'fetch nothing: forecast the requests and when the quota allows them')
    .action((jobId: string, options: { dryRun?: boolean }, command: Command) =>
      run(command, async (ctx) => {
        const started = await answer(
          sourcingJobsStartRun({
            client: ctx.api().sdk,
            path: { id: parseId(jobId, 'the sourcing job id') },
            body: options.dryRun ? { dry_run: true } : {},
            headers: { 'Idempotency-Key': `herald-cli-${randomUUID()}` },
          }),
        );
        ctx.out.result(started, () => renderSourcingRun(started));
      }),
    );
  runs
    .command('show')
    .description('a run with its progress by stage, rate, ETA and why it waits')
    .argument('<run-id>', 'the run')
    .action((runId: string, _options: unknown, command: Command) =>
      run(command, async (ctx) => {
        const found = await answer(
          sourcingRunsGet({ client: ctx.api().sdk, path: { id: parseId(runId, 'the run id') } }),
        );
        ctx.out.result(found, () => renderSourcingRun(found));
        return found.status === 'failed' || found.status === 'cancelled' ? EXIT.failed : EXIT.ok;
      }),
    );
  for (const [name, call, what] of [
    ['pause', sourcingRunsPause, 'stop the search after the step in flight'],
    ['resume', sourcingRunsResume, 'go on from the run’s cursor (a paused or failed run)'],
    ['cancel', sourcingRunsCancel, 'stop the search for good (candidates stay)'],
  ] as const) {
    runs
      .command(name)
      .description(what)
      .argument('<run-id>', 'the run')
      .action((runId: string, _options: unknown, command: Command) =>
        run(command, async (ctx) => {
          const changed = await answer(
            call({ client: ctx.api().sdk, path: { id: parseId(runId, 'the run id') } }),
          );
          ctx.out.result(changed, () => renderSourcingRun(changed));
        }),
      );
  }

  sourcing
    .command('candidates')
    .description('candidates of a run')
    .command('list')
    .description('a run’s candidates in the order found, by stage and/or tier')
    .argument('<run-id>', 'the run')
    .option('--stage <stage>', 'discovered, duplicate, assessed, enriched, scored, handed_off or rejected')
    .option('--tier <tier>', 'A, B, C or D')
    .option('--limit <n>', 'how many to show (1-1000)', '50')
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .action(
      (
        runId: string,
        options: { stage?: string; tier?: string; limit: string; cursor?: string },
        command: Command,
      ) =>
        run(command, async (ctx) => {
          const query: Record<string, string> = { limit: String(parseCount(options.limit, '--limit', 1000)) };
          if (options.stage) query.stage = options.stage;
          if (options.tier) query.tier = options.tier;
          if (options.cursor) query.cursor = options.cursor;
          const page = await answer(
            sourcingRunsCandidates({
              client: ctx.api().sdk,
              path: { id: parseId(runId, 'the run id') },
              query: query,
            }),
          );
          ctx.out.result(page, () => {
            if (page.data.length === 0) return 'no candidate';
            const rows = table(
              ['candidate', 'stage', 'tier', 'name', 'website', 'email', 'duplicate of'],
              page.data.map((c) => [
                c.id,
                c.stage,
                c.tier ?? '',
                c.name ?? '',
                c.website_domain ?? '',
                c.email ?? '',
                c.duplicate_of ? JSON.stringify(c.duplicate_of) : '',
              ]),
            );
            const next = page.next_cursor
              ? `\nmore: herald sourcing candidates list ${runId} --cursor ${page.next_cursor}`
              : '';
            return `${rows}${next}`;
          });
        }),
    );
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError(EXIT.usage, `cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError(EXIT.usage, `${file} is not JSON`);
  }
}

export function renderSourcingRun(r: SourcingRun): string {
  const stages = Object.entries(r.stages)
    .filter(([, n]) => n > 0)
    .map(([stage, n]) => `${stage} ${n}`)
    .join(', ');
  const lines = [
    `sourcing run ${r.id} ${r.status}${r.dry_run ? ' (dry run)' : ''}`,
    `  found ${r.discovered} new, ${r.duplicates} duplicates of ${r.limit}; ${r.requests_spent} requests charged`,
  ];
  if (stages) lines.push(`  stages: ${stages}`);
  if (r.eta) lines.push(`  eta ${r.eta} (${r.eta_reason ?? 'rate'}), ${r.rate_per_second}/s`);
  if (r.reason) lines.push(`  reason: ${r.reason}`);
  if (r.error) lines.push(`  error: ${r.error}`);
  if (r.forecast && typeof r.forecast.summary === 'string') lines.push(`  forecast: ${r.forecast.summary}`);
  return lines.join('\n');
}
