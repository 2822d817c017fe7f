import {
  ApiProblem,
  sourceAccountsCreate,
  sourcingJobsCreate,
  sourcingJobsStartRun,
  unwrap,
  type Client,
} from '@herald/api-client';
import type { DemoState, SeedGap } from './demo-seed';

/** The dev directory's businesses a demo run searches (the fake world's "bakery" category). */
export const DEMO_SOURCING_CRITERIA = { category: 'bakery' } as const;
export const DEMO_SOURCING_LIMIT = 200;

/**
 * The demo's lead finding: a source account on the dev directory (scripts/dev.ts starts it), a
 * scoring model, and a sourcing job whose tier-A leads are enrolled in the trial sequence (B held
 * for review), with one run started. The scoring model comes from qualifying's
 * `POST /v1/scoring-models`: a build without it (404) seeds no job; another refusal is a gap,
 * retried next start.
 */
export async function seedDemoSourcing(options: {
  api: Client;
  baseUrl: string;
  state: DemoState;
  save: () => void;
  key: (step: string) => string;
  say: (line: string) => void;
}): Promise<SeedGap[]> {
  const { api, state, save, key, say } = options;
  const directory = state.directory;
  const sequence = state.campaigns.sequence;
  if (!directory || !state.tenant || !sequence) return [];
  state.sourcing ??= {};
  if (!state.sourcing.account) {
    const body = await unwrap(
      sourceAccountsCreate({
        client: api,
        headers: { 'Idempotency-Key': key('source-account') },
        body: {
          name: 'Dev directory',
          kind: 'http-directory',
          config: {
            base_url: `http://127.0.0.1:${directory.port}/search`,
            api_key: directory.api_key,
            page_size: 50,
          },
          quotas: { hourly: 120 },
        },
      }),
    );
    state.sourcing.account = body.id;
    save();
  }
  if (!state.sourcing.model) {
    const res = await fetch(`${options.baseUrl}/v1/scoring-models`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${state.tenant.api_key}`,
        'content-type': 'application/json',
        'idempotency-key': key('scoring-model'),
      },
      body: JSON.stringify({
        name: 'Demo leads',
        rules: [
          { name: 'has email', field: 'email', op: 'exists', points: 40 },
          { name: 'has website', field: 'website', op: 'exists', points: 40 },
          { name: 'has phone', field: 'phone', op: 'exists', points: 20 },
        ],
        tiers: { A: 80, B: 60, C: 40 },
      }),
    });
    // Scoring models are qualifying's (issue 11, item 6): without them the demo finds no leads yet.
    if (res.status === 404) {
      say('sourcing: no scoring models in this build (POST /v1/scoring-models is 404): no demo sourcing job');
      return [];
    }
    if (res.status !== 201 && res.status !== 200)
      return [
        {
          what: 'demo sourcing job',
          why: `POST /v1/scoring-models answered ${res.status}: ${await res.text()}`,
        },
      ];
    state.sourcing.model = ((await res.json()) as { id: string }).id;
    save();
  }
  if (!state.sourcing.job) {
    const body = await unwrap(
      sourcingJobsCreate({
        client: api,
        headers: { 'Idempotency-Key': key('sourcing-job') },
        body: {
          name: 'Bakeries from the dev directory',
          source_account_id: state.sourcing.account,
          criteria: DEMO_SOURCING_CRITERIA,
          limit: DEMO_SOURCING_LIMIT,
          scoring_model_id: state.sourcing.model,
          handoff: { A: { action: 'enroll', campaign_id: sequence }, B: { action: 'hold' } },
        },
      }),
    );
    state.sourcing.job = body.id;
    save();
  }
  if (!state.sourcing.run) {
    try {
      const body = await unwrap(
        sourcingJobsStartRun({
          client: api,
          path: { id: state.sourcing.job },
          body: {},
          headers: { 'Idempotency-Key': key('sourcing-run') },
        }),
      );
      state.sourcing.run = body.id;
      save();
      say(`sourcing run ${body.id} started: bakeries from the dev directory, tier A into "Trial onboarding"`);
    } catch (error) {
      if (!(error instanceof ApiProblem) || error.status !== 409) throw error;
      return [{ what: 'demo sourcing run', why: error.message }];
    }
  }
  return [];
}
