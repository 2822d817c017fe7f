import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { HeraldLogger } from '@herald/telemetry';
import { queryRows } from '@herald/persistence';
import type { DataSource } from 'typeorm';
import { audiencePage, type ContactFilterJson } from './audience';
import { FairDispatcher, SEND_PAGE } from './fair/fair-dispatcher';
import { FairQueue, type PagePayload } from './fair/fair-queue';
import { LedgerRepository } from './ledger.repository';

/** Contacts per page: one statement writes a page of ledger rows; memory stays flat with audience size. */
export const FANOUT_PAGE = 5000;
/**
 * The fan-out's brake: a tenant with this many deliveries waiting for their turn gets no more
 * ledger pages until the dispatcher has taken some. One tenant's million-contact run then holds
 * a few pages in Redis, not a million deliveries ahead of everyone.
 */
export const TENANT_BACKLOG = FANOUT_PAGE;

interface RunRow {
  status: string;
  cursor: string | null;
  kind: string;
  audience: ContactFilterJson;
  sender_account_id: string;
  channel: string;
  campaign_id: string;
  tenant_zone: string;
  weight: number;
  at: Date;
}

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
    private readonly logger: HeraldLogger,
  ) {}

  /** The brake's limit (a benchmark of the fan-out alone lifts it). */
  backlogLimit = TENANT_BACKLOG;

  async fanout(tenantId: string, runId: string): Promise<FanoutResult> {
    const [run] = queryRows<RunRow>(
      await this.dataSource.query(
        `UPDATE campaign_runs r SET status = 'running', started_at = coalesce(r.started_at, now())
           FROM campaigns g
           JOIN sender_accounts s ON s.tenant_id = g.tenant_id AND s.id = g.sender_account_id
           JOIN tenants t ON t.id = g.tenant_id
          WHERE r.tenant_id = $1 AND r.id = $2 AND g.tenant_id = r.tenant_id AND g.id = r.campaign_id
            AND r.status IN ('queued', 'running')
          RETURNING r.status, r.cursor, g.kind, g.audience, g.sender_account_id, s.channel, g.id AS campaign_id,
                    t.time_zone AS tenant_zone, t.delivery_weight AS weight, coalesce(r.slot_at, r.created_at) AS at`,
        [tenantId, runId],
      ),
    );
    const result: FanoutResult = { targeted: 0, enqueued: 0, paused: false };
    if (!run) return result; // cancelled, finished or gone: nothing to do
    const spec = {
      tenantId,
      kind: run.kind,
      audience: run.audience,
      campaignId: run.campaign_id,
      runId,
      tenantZone: run.tenant_zone,
      at: run.at,
    };
    let cursor = run.cursor ? position(run.cursor) : null;
    let backlog = await this.fair.backlog(tenantId);
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
                ARRAY(SELECT d.id FROM deliveries d JOIN page p ON d.contact_id = p.id
                       WHERE d.tenant_id = $1 AND d.run_id = $${base + 1}::uuid AND d.status = 'pending') AS existing`,
          [...page.params, runId, run.campaign_id, run.sender_account_id, run.channel],
        ),
      );
      if (!rows) break;
      const ids = [...rows.inserted, ...rows.existing].sort();
      result.targeted += rows.inserted.length;
      result.enqueued += ids.length;
      const done = Number(rows.n) < FANOUT_PAGE || !rows.last_id;
      if (!done) cursor = position(rows.last_id!);
      if (ids.length > 0)
        backlog = await this.fair.push(tenantId, run.weight, sendPages(tenantId, runId, ids), SEND_PAGE);
      const [state] = queryRows<{ status: string }>(
        await this.dataSource.query(
          `UPDATE campaign_runs SET cursor = $3, targeted = targeted + $4, fanout_done = $5
            WHERE tenant_id = $1 AND id = $2 RETURNING status`,
          [tenantId, runId, cursor?.id ?? null, rows.inserted.length, done],
        ),
      );
      // Pushed pages reach the deliveries queue now; the workers' timer covers a failed pump.
      if (ids.length > 0) await this.dispatcher.pump().catch((error: unknown) => this.pumpFailed(error));
      if (done || state?.status !== 'running') break;
    }
    if (result.paused) return result;
    await this.ledger.completeRuns([{ tenantId, id: runId }]);
    this.logger.info({ run_id: runId, kind: run.kind, ...result }, 'run fan-out finished');
    return result;
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
