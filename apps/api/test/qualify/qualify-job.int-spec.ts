import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@herald/config';
import { JobProducer } from '@herald/queues';
import { eventually, FakeSites, testEnvironment, testRedisPrefix, testRedisUrl } from '@herald/testing';
import { register } from 'prom-client';
import { AppModule as WorkerAppModule } from '../../../worker/src/app.module';
import { TestApi } from '../../../../test/support/api-app';
import { insertCandidates, insertDirectoryAccount, insertRun } from './qualify-fixtures';

/**
 * The `sourcing.qualify` job end to end in process: the api's database, a worker consuming the
 * sourcing queue (its real processor and handler registry), the job enqueued as the finding half
 * does, twice — the batch is handed off once.
 */
describe('sourcing.qualify on the sourcing queue', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let sites: FakeSites;

  beforeAll(async () => {
    sites = await FakeSites.start();
    api = await TestApi.start({
      OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
      OUTBOUND_HOST_OVERRIDES: '*.sites.test=127.0.0.1',
    });
    const config = loadConfig(
      testEnvironment({
        DATABASE_URL: api.database.url,
        REDIS_URL: testRedisUrl(),
        QUEUE_PREFIX: testRedisPrefix(),
        LOG_LEVEL: 'silent',
        WORKER_QUEUES: 'sourcing',
        OUTBOUND_ALLOW_PRIVATE_NETWORKS: 'true',
        OUTBOUND_HOST_OVERRIDES: '*.sites.test=127.0.0.1',
      }),
      { role: 'worker' },
    );
    worker = await NestFactory.createApplicationContext(WorkerAppModule.register(config), { logger: false });
    await worker.init();
  });
  afterAll(async () => {
    await worker.close();
    await api.close();
    await sites.stop();
    register.clear();
  });

  it('qualifies and hands off a batch through the queue; the same batch enqueued again is the same job', async () => {
    const tenant = await api.createTenant('Job');
    const model = await api.request<{ id: string }>('POST', '/v1/scoring-models', {
      key: tenant.key,
      body: {
        name: 'Simple',
        rules: [{ name: 'HTTPS', field: 'assessment.https', op: 'equals', value: true, points: 10 }],
        tiers: { A: 10, B: 5, C: 1 },
      },
    });
    const accountId = await insertDirectoryAccount(api, tenant.id);
    const run = await insertRun(api, tenant.id, {
      accountId,
      modelId: model.body.id,
      version: 1,
      handoff: { A: { action: 'contact' }, D: { action: 'reject' } },
    });
    const ids = await insertCandidates(api, tenant.id, { ...run, accountId }, [
      { name: 'Good 51', website: sites.url('good-51'), email: 'owner@good-51.sites.test' },
      { name: 'Plain 51', website: sites.url('plain-51') },
    ]);
    const producer = worker.get(JobProducer);
    const payload = { tenant_id: tenant.id, run_id: run.runId, candidate_ids: ids };
    await producer.enqueue('sourcing.qualify', payload);
    await producer.enqueue('sourcing.qualify', payload);

    await eventually(
      async () => {
        const rows = await api.query<{ stage: string; tier: string }>(
          `SELECT stage, tier FROM candidates WHERE id = ANY ($1::uuid[]) ORDER BY name`,
          [ids],
        );
        expect(rows).toEqual([
          { stage: 'handed_off', tier: 'A' },
          { stage: 'rejected', tier: 'D' },
        ]);
        return true;
      },
      { timeoutMs: 30_000, what: 'the batch handed off' },
    );
    const contacts = await api.query(`SELECT 1 FROM contacts WHERE tenant_id = $1`, [tenant.id]);
    expect(contacts).toHaveLength(1);
  });
});
