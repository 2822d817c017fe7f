import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { JobProducer } from '@herald/queues';
import { HeraldLogger } from '@herald/telemetry';
import { queryRows } from '@herald/persistence';
import type { DataSource } from 'typeorm';
import { audiencePage } from './audience';
import { LedgerRepository } from './ledger.repository';
import { RunPort } from './run-port';

/** Contacts per page: one statement writes a page of ledger rows; memory stays flat with audience size. */
export const FANOUT_PAGE = 5000;

interface PageResult {
  n: string;
  last_id: string | null;
  inserted: string[];
  existing: string[];
}

/**
 * Turns a run into ledger rows and delivery jobs, a keyset page at a time: one statement per
 * page inserts the rows (`ON CONFLICT DO NOTHING`: a key already in the ledger is never sent
 * again) and returns every still-pending delivery of the page, which is enqueued in bulk with
 * the delivery id as job id. The cursor is saved after the enqueue, so a crash anywhere repeats
 * at most one page, and repeating it neither duplicates a row nor a job. Who a page reaches and
 * under which key (broadcast, birthday) is `audiencePage`'s.
 */
@Injectable()
export class FanoutService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly producer: JobProducer,
    private readonly ledger: LedgerRepository,
    private readonly runs: RunPort,
    private readonly logger: HeraldLogger,
  ) {}

  async fanout(tenantId: string, runId: string): Promise<{ targeted: number; enqueued: number }> {
    // The run's state is its owner's (campaigns) to write: it marks it running and says what to fan out.
    const run = await this.runs.fanoutStarted(tenantId, runId);
    if (!run) return { targeted: 0, enqueued: 0 }; // cancelled, finished or gone: nothing to do
    const spec = {
      tenantId,
      kind: run.kind,
      audience: run.audience,
      campaignId: run.campaignId,
      runId,
      tenantZone: run.tenantZone,
      at: run.at,
    };
    let cursor = run.cursor ? position(run.cursor) : null;
    let targeted = 0;
    let enqueued = 0;
    // The previous page's enqueue and cursor save, overlapping this page's insert. Resolves to
    // whether the fan-out must stop (done, or no longer running).
    let previous: Promise<boolean> | undefined;
    for (;;) {
      const page = audiencePage(spec, cursor, FANOUT_PAGE);
      const base = page.params.length;
      const [result] = queryRows<PageResult>(
        await this.dataSource.query(
          `WITH raw AS (${page.raw}),
              page AS (${page.select}),
              ins AS (
                INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id, channel, step)
                SELECT $1, gen_random_uuid(), p.delivery_key, $${base + 2}::uuid, $${base + 1}::uuid, p.id,
                       $${base + 3}::uuid, $${base + 4}::text, 0
                  FROM page p
                 -- A cancel committed while the previous page was being enqueued inserts nothing more.
                 WHERE EXISTS (SELECT 1 FROM campaign_runs r
                                WHERE r.tenant_id = $1 AND r.id = $${base + 1}::uuid AND r.status = 'running')
                ON CONFLICT (tenant_id, delivery_key) DO NOTHING
                RETURNING id)
         SELECT (SELECT count(*) FROM raw) AS n,
                (SELECT id FROM raw ORDER BY id DESC LIMIT 1) AS last_id,
                ARRAY(SELECT id FROM ins) AS inserted,
                ARRAY(SELECT d.id FROM deliveries d JOIN page p ON d.contact_id = p.id
                       WHERE d.tenant_id = $1 AND d.run_id = $${base + 1}::uuid AND d.status = 'pending') AS existing`,
          [...page.params, runId, run.campaignId, run.senderAccountId, run.channel],
        ),
      );
      if (previous && (await previous)) {
        previous = undefined;
        break;
      }
      if (!result) break;
      const ids = [...result.inserted, ...result.existing];
      targeted += result.inserted.length;
      enqueued += ids.length;
      const done = Number(result.n) < FANOUT_PAGE || !result.last_id;
      if (!done) cursor = position(result.last_id!);
      const saved = cursor?.id ?? null;
      previous = this.enqueueThenSave(tenantId, runId, ids, saved, result.inserted.length, done);
      // Awaited below; until then a failure must not count as unhandled (it fails the job there).
      previous.catch(() => undefined);
      if (done) break;
    }
    if (previous) await previous;
    await this.ledger.completeRuns([{ tenantId, id: runId }]);
    this.logger.info({ run_id: runId, kind: run.kind, targeted, enqueued }, 'run fan-out finished');
    return { targeted, enqueued };
  }

  /**
   * Enqueues a page's deliveries, then saves the cursor past it (so a crash repeats at most this
   * page). Resolves to whether the fan-out stops: the last page, or the run is no longer running
   * (a cancel between pages).
   */
  private async enqueueThenSave(
    tenantId: string,
    runId: string,
    ids: readonly string[],
    cursor: string | null,
    inserted: number,
    done: boolean,
  ): Promise<boolean> {
    const pages: { tenant_id: string; run_id: string; delivery_ids: string[] }[] = [];
    for (let i = 0; i < ids.length; i += SEND_PAGE)
      pages.push({ tenant_id: tenantId, run_id: runId, delivery_ids: ids.slice(i, i + SEND_PAGE) });
    await this.producer.enqueueBulk('deliveries.page', pages);
    const running = await this.runs.fanoutProgressed(tenantId, runId, { cursor, inserted, done });
    return done || !running;
  }
}

/** Deliveries per `deliveries.page` job: a fan-out page becomes a few jobs, spread over workers. */
export const SEND_PAGE = 250;

/** Contact pages are ordered by id alone (UUIDv7, creation order): the cursor is the last id. */
function position(lastId: string): { createdAt: Date; id: string } {
  return { createdAt: new Date(0), id: lastId };
}
