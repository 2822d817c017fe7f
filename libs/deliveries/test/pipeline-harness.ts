import { seedBroadcast, testEnvironment, testRedisUrl } from '@herald/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestApi } from '../../../test/support/api-app';
import type { DeliveryOutcome, DeliveryPipeline } from '../src';

type Final = Exclude<DeliveryOutcome, { kind: 'delay' | 'again' }>;

/**
 * A run's deliveries written straight into the ledger (as its fan-out would), pending: the
 * pipeline tests start below the queue, at `DeliveryPipeline.handle`.
 */
export async function seedRun(
  api: TestApi,
  options: Omit<Parameters<typeof seedBroadcast>[0], 'databaseUrl' | 'env'>,
): Promise<{ tenantId: string; runId: string; accountId: string; deliveryIds: string[]; keys: string[] }> {
  const seeded = await seedBroadcast({
    databaseUrl: api.database.url,
    // The same keys as the app's (testEnvironment), so the app opens what the seed sealed.
    env: testEnvironment({ DATABASE_URL: api.database.url, REDIS_URL: testRedisUrl() }),
    ...options,
  });
  const rows = await api.query<{ id: string; delivery_key: string }>(
    `INSERT INTO deliveries (tenant_id, id, delivery_key, campaign_id, run_id, contact_id, sender_account_id, channel, step)
     SELECT c.tenant_id, gen_random_uuid(), 'bc:' || $2::text || ':' || c.id, $3::uuid, $2::uuid, c.id, $4::uuid,
            (SELECT channel FROM sender_accounts WHERE tenant_id = $1 AND id = $4), 0
       FROM contacts c WHERE c.tenant_id = $1
     RETURNING id, delivery_key`,
    [seeded.tenantId, seeded.runId, seeded.campaignId, seeded.accountId],
  );
  await api.query(
    `UPDATE campaign_runs SET status = 'running', started_at = now(), fanout_done = true, targeted = $2 WHERE id = $1`,
    [seeded.runId, rows.length],
  );
  return {
    tenantId: seeded.tenantId,
    runId: seeded.runId,
    accountId: seeded.accountId,
    deliveryIds: rows.map((r) => r.id),
    keys: rows.map((r) => r.delivery_key),
  };
}

/**
 * Hands each delivery to the pipeline as the queue would: a `delay` comes back at its time, a
 * batch handed back (the handle rejects) comes back after a short backoff, until every delivery
 * has a final outcome. Returns those, and how many times a batch was handed back.
 */
export async function drive(
  pipeline: DeliveryPipeline,
  tenantId: string,
  ids: readonly string[],
  options: { timeoutMs?: number; retryMs?: number } = {},
): Promise<{ outcomes: Map<string, Final>; handedBack: number; delays: string[] }> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const outcomes = new Map<string, Final>();
  const delays: string[] = [];
  let handedBack = 0;
  let pending = [...ids];
  while (pending.length > 0) {
    if (Date.now() > deadline) throw new Error(`${pending.length} deliveries still without an outcome`);
    const results = await Promise.allSettled(
      pending.map((id) => pipeline.handle({ tenantId, deliveryId: id })),
    );
    const next: string[] = [];
    let wakeAt = Infinity;
    results.forEach((result, i) => {
      const id = pending[i]!;
      if (result.status === 'rejected') {
        handedBack += 1;
        next.push(id);
        wakeAt = Math.min(wakeAt, Date.now() + (options.retryMs ?? 100));
      } else if (result.value.kind === 'delay') {
        delays.push(result.value.reason);
        next.push(id);
        wakeAt = Math.min(wakeAt, result.value.until);
      } else {
        outcomes.set(id, result.value);
      }
    });
    pending = next;
    // The queue's backoff: a timer, as BullMQ's delayed jobs are.
    if (pending.length > 0) await sleep(Math.max(0, Math.min(wakeAt, deadline) - Date.now()));
  }
  return { outcomes, handedBack, delays };
}
