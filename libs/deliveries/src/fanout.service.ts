import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isRedisUnavailable, JobProducer } from '@herald/queues';
import { HeraldLogger } from '@herald/telemetry';
import { queryRows } from '@herald/persistence';
import type { DataSource } from 'typeorm';
import { audiencePage } from './audience';
import { FairDispatcher, SEND_PAGE } from './fair/fair-dispatcher';
import { FairQueue, type PagePayload } from './fair/fair-queue';
import { LedgerRepository } from './ledger.repository';
import { RunPort } from './run-port';

/** Contacts per page: one statement writes a page of ledger rows; memory stays flat with audience size. */
export const FANOUT_PAGE = 5000;
/**
 * The fan-out's brake: a tenant with this many deliveries waiting for their turn gets no more
 * ledger pages until the dispatcher has taken some. One tenant's million-contact run then holds
 * a few pages in Redis, not a million deliveries ahead of everyone.
 */
export const TENANT_BACKLOG = FANOUT_PAGE;

interface PageResult {
  n: string;
  last_id: string | null;
  inserted: string[];
  existing: string[];
}

export interface FanoutResult {
  targeted: number;
  enqueued: number;
  /** The tenant's backlog is full: come back later, from the saved cursor. */
  paused: boolean;
}

/**
 * Turns a run into ledger rows and send pages, a keyset page at a time, lazily: one statement
 * per page inserts the rows (`ON CONFLICT DO NOTHING`: a key already in the ledger is never sent
 * again) and returns every still-pending delivery of the page; those go to the tenant's queue in
 * the fair queue (pages of SEND_PAGE, ids sorted, so a page repeated after a crash gets the same
 * page ids and is dropped as known). The cursor is saved after the push, so a crash anywhere
 * repeats at most one page, and repeating it neither duplicates a row nor a page. Once the
 * tenant has TENANT_BACKLOG deliveries waiting, the fan-out pauses (`paused`: its job comes back
 * later and resumes from the cursor). Who a page reaches and under which key is `audiencePage`'s.
 */
@Injectable()
export class FanoutService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly fair: FairQueue,
    private readonly dispatcher: FairDispatcher,
    private readonly ledger: LedgerRepository,
    private readonly runs: RunPort,
    private readonly logger: HeraldLogger,
    private readonly producer: JobProducer,
  ) {}

  /** The brake's limit (a benchmark of the fan-out alone lifts it). */
  backlogLimit = TENANT_BACKLOG;

  async fanout(tenantId: string, runId: string): Promise<FanoutResult> {
    // The run's state is its owner's (campaigns) to write: it marks it running and says what to fan out.
    const run = await this.runs.fanoutStarted(tenantId, runId);
    const result: FanoutResult = { targeted: 0, enqueued: 0, paused: false };
    if (!run) return result; // cancelled, finished or gone: nothing to do
    const spec = {
      tenantId,
      kind: run.kind,
      audience: run.audience,
      campaignId: run.campaignId,
      runId,
      tenantZone: run.tenantZone,
      at: run.at,
    };
    const weight = await this.weightOf(tenantId);
    let cursor = run.cursor ? position(run.cursor) : null;
    let backlog = await this.fair.backlog(tenantId).catch((error: unknown) => this.fairUnreachable(error, 0));
    for (;;) {
      if (backlog >= this.backlogLimit) {
        result.paused = true;
        break;
      }
      const page = audiencePage(spec, cursor, FANOUT_PAGE);
      const base = page.params.length;
      const [rows] = queryRows<PageResult>(
        await this.dataSource.query(
          `WITH raw AS (${page.raw}),
              page AS (${page.select}),
              ins AS (
                INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id, channel, step)
                SELECT $1, gen_random_uuid(), p.delivery_key, $${base + 2}::uuid, $${base + 1}::uuid, p.id,
                       $${base + 3}::uuid, $${base + 4}::text, 0
                  FROM page p
                 -- A cancel committed while the previous page was being pushed inserts nothing more.
                 WHERE EXISTS (SELECT 1 FROM campaign_runs r
                                WHERE r.tenant_id = $1 AND r.id = $${base + 1}::uuid AND r.status = 'running')
                ON CONFLICT (tenant_id, delivery_key) DO NOTHING
                RETURNING id)
         SELECT (SELECT count(*) FROM raw) AS n,
                (SELECT id FROM raw ORDER BY id DESC LIMIT 1) AS last_id,
                ARRAY(SELECT id FROM ins) AS inserted,
                -- Rows already in the ledger exist only when the page is repeated (a crash, a resumed
                -- fan-out): looked up then alone (an InitPlan runs when first needed), by the unique
                -- key. A join on contact_id, with the fresh statistics of a new run, was planned as
                -- every pending row of the run against every row of the page: 25M comparisons a page.
                CASE WHEN (SELECT count(*) FROM ins) = (SELECT count(*) FROM page) THEN '{}'::uuid[]
                     ELSE ARRAY(SELECT d.id FROM deliveries d
                                 WHERE d.tenant_id = $1
                                   AND d.delivery_key = ANY (ARRAY(SELECT delivery_key FROM page))
                                   AND d.run_id = $${base + 1}::uuid AND d.status = 'pending')
                END AS existing`,
          [...page.params, runId, run.campaignId, run.senderAccountId, run.channel],
        ),
      );
      if (!rows) break;
      const ids = [...rows.inserted, ...rows.existing].sort();
      result.targeted += rows.inserted.length;
      result.enqueued += ids.length;
      const done = Number(rows.n) < FANOUT_PAGE || !rows.last_id;
      if (!done) cursor = position(rows.last_id!);
      if (ids.length > 0) backlog = await this.queuePages(tenantId, weight, sendPages(tenantId, runId, ids));
      const running = await this.runs.fanoutProgressed(tenantId, runId, {
        cursor: cursor?.id ?? null,
        inserted: rows.inserted.length,
        done,
      });
      // Pushed pages reach the deliveries queue now; the workers' timer covers a failed pump.
      if (ids.length > 0) await this.dispatcher.pump().catch((error: unknown) => this.pumpFailed(error));
      if (done || !running) break;
    }
    if (result.paused) return result;
    await this.ledger.completeRuns([{ tenantId, id: runId }]);
    this.logger.info({ run_id: runId, kind: run.kind, ...result }, 'run fan-out finished');
    return result;
  }

  /**
   * Pages into the tenant's fair queue; when the fair queue's Redis client cannot reach Redis
   * while the queues' own connections can (a cut client, a full `maxclients`), straight into the
   * deliveries queue instead: fairness waits, deliveries do not. Page ids are the job ids, and
   * the ledger's claim rules out a second send, so a page that also landed in the fair queue is
   * never sent twice. Returns the tenant's backlog (0 when unknown).
   */
  private async queuePages(tenantId: string, weight: number, pages: PagePayload[]): Promise<number> {
    try {
      return await this.fair.push(tenantId, weight, pages, SEND_PAGE);
    } catch (error) {
      this.fairUnreachable(error, 0);
      await this.producer.enqueueBulk('deliveries.page', pages);
      return 0;
    }
  }

  private fairUnreachable<T>(error: unknown, fallback: T): T {
    if (!isRedisUnavailable(error)) throw error;
    this.logger.warn(
      { err: { message: error instanceof Error ? error.message : String(error) } },
      'fair queue unreachable: pages go straight to the deliveries queue until it is back',
    );
    return fallback;
  }

  /** The tenant's share of the workers (`tenants.delivery_weight`), read as each fan-out starts or resumes. */
  private async weightOf(tenantId: string): Promise<number> {
    const [row] = queryRows<{ delivery_weight: number }>(
      await this.dataSource.query(`SELECT delivery_weight FROM tenants WHERE id = $1`, [tenantId]),
    );
    return row?.delivery_weight ?? 1;
  }

  private pumpFailed(error: unknown): void {
    this.logger.warn(
      { err: { message: (error as Error).message } },
      'fair dispatch after a fan-out page failed',
    );
  }
}

function sendPages(tenantId: string, runId: string, ids: readonly string[]): PagePayload[] {
  const pages: PagePayload[] = [];
  for (let i = 0; i < ids.length; i += SEND_PAGE)
    pages.push({ tenant_id: tenantId, run_id: runId, delivery_ids: ids.slice(i, i + SEND_PAGE) });
  return pages;
}

export { SEND_PAGE };

/** Contact pages are ordered by id alone (UUIDv7, creation order): the cursor is the last id. */
function position(lastId: string): { createdAt: Date; id: string } {
  return { createdAt: new Date(0), id: lastId };
}
