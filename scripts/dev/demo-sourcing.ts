import {
  ApiProblem,
  scoringModelsCreate,
  sourceAccountsCreate,
  sourcingJobsCreate,
  sourcingJobsStartRun,
  unwrap,
  type Client,
  type ScoringModelsCreateData,
} from '@herald/api-client';
import type { DemoState, SeedGap } from './demo-seed';

/** The dev directory's businesses a demo run searches (the fake world's "bakery" category). */
export const DEMO_SOURCING_CRITERIA = { category: 'bakery' } as const;
export const DEMO_SOURCING_LIMIT = 200;
/**
 * The demo's scoring model, over what qualifying stores: the website's assessment, the
 * enrichment answer and the listing. A reachable site with an email and a known size is an A.
 */
export const DEMO_SCORING: Omit<ScoringModelsCreateData['body'], 'name'> = {
  rules: [
    { name: 'site answers', field: 'assessment.status', op: 'range', min: 200, max: 299, points: 30 },
    { name: 'HTTPS', field: 'assessment.https', op: 'equals', value: true, points: 15 },
    { name: 'mobile viewport', field: 'assessment.viewport', op: 'equals', value: true, points: 10 },
    { name: 'has email', field: 'email', op: 'exists', points: 25 },
    { name: 'size known', field: 'enrichment.employees', op: 'exists', points: 20 },
    { name: 'TTFB > 2 s', field: 'assessment.ttfb_ms', op: 'range', min: 2000, points: -10 },
  ],
  tiers: { A: 70, B: 45, C: 25 },
};

/**
 * The demo's lead finding: a source account on the dev directory (scripts/dev.ts starts it), a
 * source account on the dev enrichment API, a scoring model (`POST /v1/scoring-models`), and a
 * sourcing job whose tier-A leads are enrolled in the trial sequence (B held for review), with
 * one run started.
 */
export async function seedDemoSourcing(options: {
  api: Client;
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
  if (!state.sourcing.enrichment && state.enrichment) {
    const body = await unwrap(
      sourceAccountsCreate({
        client: api,
        headers: { 'Idempotency-Key': key('enrichment-account') },
        body: {
          name: 'Dev enrichment',
          kind: 'http-enrichment',
          config: {
            base_url: `http://127.0.0.1:${state.enrichment.port}/v1/lookup`,
            api_key: state.enrichment.api_key,
            lookup: 'domain',
            mapping: { employees: 'company.employees', industry: 'company.industry' },
          },
          quotas: { hourly: 1000 },
        },
      }),
    );
    state.sourcing.enrichment = body.id;
    save();
  }
  if (!state.sourcing.model) {
    // Any refusal throws: a demo whose model is wrong would find leads and hand none off, quietly.
    const body = await unwrap(
      scoringModelsCreate({
        client: api,
        headers: { 'Idempotency-Key': key('scoring-model') },
        body: { name: 'Demo leads', ...DEMO_SCORING },
      }),
    );
    state.sourcing.model = body.id;
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
