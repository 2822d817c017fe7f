import { messageIdFor } from '@herald/channels';
import { HeraldMetrics } from '@herald/telemetry';
import { SmtpSink, WebhookSink } from '@herald/testing';
import { randomUUID } from 'node:crypto';
import { TestApi } from '../../../test/support/api-app';
import { QuotaService } from '@herald/rate-limit';
import {
  DeliveryPipeline,
  DeliveryReconciler,
  LedgerRepository,
  quotaAccountOf,
  SenderAccountsRepository,
} from '../src';
import { drive, seedRun } from './pipeline-harness';

jest.setTimeout(60_000);

const SECRET = 'unknown-sink-secret-0123456789abcdef012';

/**
 * Promise 2 after a crash: a `sending` delivery whose attempt's lease ran out may have reached
 * the provider or not. Where the receiver drops a repeat of its key (webhook) it is sent again
 * with the same key; where it cannot (SMTP) it is held as `unknown` for an operator, unless the
 * account opts into at-least-once.
 */
describe('a send a crash left unknown', () => {
  let api: TestApi;
  let smtp: SmtpSink;
  let webhook: WebhookSink;
  let pipeline: DeliveryPipeline;
  let ledger: LedgerRepository;

  beforeAll(async () => {
    [smtp, webhook] = await Promise.all([SmtpSink.start(), WebhookSink.start(SECRET)]);
    api = await TestApi.start({ OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true' });
    pipeline = api.app.get(DeliveryPipeline);
    ledger = api.app.get(LedgerRepository);
  });
  afterAll(async () => {
    await api?.close();
    await Promise.all([smtp?.stop(), webhook?.stop()]);
  });

  /** As a worker killed after its provider calls and before their record leaves them. */
  const crashedMidSend = (runId: string) =>
    api.query(
      `UPDATE deliveries SET status = 'sending', attempts = 1, claim_token = gen_random_uuid(),
              lease_until = now() - interval '1 second'
        WHERE run_id = $1`,
      [runId],
    );
  const ledgerOf = (runId: string) =>
    api.query<{ status: string; attempts: number; last_error: string | null }>(
      `SELECT status, attempts, last_error FROM deliveries WHERE run_id = $1 ORDER BY id`,
      [runId],
    );
  const unknownCount = async () =>
    (await api.app.get(HeraldMetrics).deliveriesUnknown.get()).values.find((v) => v.labels.channel === 'smtp')
      ?.value ?? 0;

  it('sends an SMTP run once per delivery (the sink counts every copy)', async () => {
    const run = await seedRun(api, { contacts: 5, channel: 'smtp', smtp: { port: smtp.port } });
    const { outcomes } = await drive(pipeline, run.tenantId, run.deliveryIds);
    expect([...outcomes.values()].map((o) => o.kind)).toEqual(Array(5).fill('sent'));
    for (const key of run.keys) expect(smtp.messages.get(messageIdFor(key))?.count).toBe(1);
  });

  it('holds an SMTP delivery as unknown: counted, not sent again, and the run still finishes', async () => {
    const run = await seedRun(api, { contacts: 4, channel: 'smtp', smtp: { port: smtp.port } });
    await crashedMidSend(run.runId);
    const before = await unknownCount();
    const { outcomes } = await drive(pipeline, run.tenantId, run.deliveryIds);
    expect([...outcomes.values()].map((o) => o.kind)).toEqual(Array(4).fill('unknown'));
    for (const key of run.keys) expect(smtp.messages.has(messageIdFor(key))).toBe(false);
    const rows = await ledgerOf(run.runId);
    expect(rows.map((r) => [r.status, r.attempts])).toEqual(Array(4).fill(['unknown', 1]));
    expect(rows[0]?.last_error).toMatch(/^outcome unknown: .*until an operator resends or closes it$/);
    expect((await unknownCount()) - before).toBe(4);
    const [runRow] = await api.query<{ status: string }>('SELECT status FROM campaign_runs WHERE id = $1', [
      run.runId,
    ]);
    expect(runRow?.status).toBe('completed');
    // Its job coming back again (a stalled job, the reconciler) changes nothing.
    const again = await drive(pipeline, run.tenantId, run.deliveryIds);
    expect([...again.outcomes.values()]).toEqual(Array(4).fill({ kind: 'noop', reason: 'already unknown' }));
    expect((await unknownCount()) - before).toBe(4);
    // The dead attempt's quota reservation is committed, not refunded: the send may have happened.
    const account = await api.app.get(SenderAccountsRepository).find(run.tenantId, run.accountId);
    const quota = api.app.get(QuotaService);
    const reserved = await quota.reserve({
      account: quotaAccountOf(account!),
      reservationId: `${run.deliveryIds[0]}:crashed`,
    });
    expect(reserved.admitted).toBe(true);
    expect(await api.app.get(DeliveryReconciler).settleReservations({ olderThanMs: 0, limit: 100 })).toEqual({
      committed: 1,
      refunded: 0,
    });
  });

  it('sends it again, once, when the SMTP account is at-least-once', async () => {
    const run = await seedRun(api, {
      contacts: 3,
      channel: 'smtp',
      smtp: { port: smtp.port },
      deliveryGuarantee: 'at_least_once',
    });
    await crashedMidSend(run.runId);
    const { outcomes } = await drive(pipeline, run.tenantId, run.deliveryIds);
    expect([...outcomes.values()].map((o) => o.kind)).toEqual(Array(3).fill('sent'));
    for (const key of run.keys) expect(smtp.messages.get(messageIdFor(key))?.count).toBe(1);
    expect((await ledgerOf(run.runId)).map((r) => [r.status, r.attempts])).toEqual(
      Array(3).fill(['sent', 2]),
    );
  });

  it('sends it again with the same key through a webhook (the receiver drops a repeat)', async () => {
    const run = await seedRun(api, { contacts: 3, webhook: { url: webhook.url, secret: SECRET } });
    await crashedMidSend(run.runId);
    const { outcomes } = await drive(pipeline, run.tenantId, run.deliveryIds);
    expect([...outcomes.values()].map((o) => o.kind)).toEqual(Array(3).fill('sent'));
    for (const key of run.keys) expect(webhook.acceptedAnswers.get(key)).toBe(1);
  });

  it('still records a send whose record came after its lease: unknown → sent', async () => {
    const run = await seedRun(api, { contacts: 1, channel: 'smtp', smtp: { port: smtp.port } });
    await crashedMidSend(run.runId);
    await drive(pipeline, run.tenantId, run.deliveryIds);
    const id = run.deliveryIds[0]!;
    expect(await ledger.markSent([{ tenantId: run.tenantId, id, providerMessageId: 'late' }])).toBe(1);
    expect((await ledgerOf(run.runId)).map((r) => r.status)).toEqual(['sent']);
  });

  it('takes the same rows again when a claim is repeated with its token, counting one attempt', async () => {
    const run = await seedRun(api, { contacts: 2, channel: 'smtp', smtp: { port: smtp.port } });
    const refs = run.deliveryIds.map((id) => ({ tenantId: run.tenantId, id, resendExpired: false }));
    const token = randomUUID();
    const first = await ledger.claim(refs, 60_000, token);
    const repeated = await ledger.claim(refs, 60_000, token);
    expect([...repeated.entries()].sort()).toEqual([...first.entries()].sort());
    expect([...first.values()]).toEqual([1, 1]);
    // Another attempt gets nothing while the lease holds.
    expect((await ledger.claim(refs, 60_000, randomUUID())).size).toBe(0);
    // Nor can it release or fail the rows of this attempt.
    await ledger.release([{ tenantId: run.tenantId, id: run.deliveryIds[0]!, error: 'x' }], randomUUID());
    expect((await ledgerOf(run.runId)).map((r) => r.status)).toEqual(['sending', 'sending']);
  });
});
