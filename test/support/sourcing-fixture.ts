import type { FakeDirectory } from '@herald/testing';

/** A tenant's call to the API, in process (TestApi.request) or over HTTP (callApi) alike. */
export type TenantCall = <T>(
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: T }>;

/** The scoring rule every sourcing spec scores with: the business's website answers. */
export const SITE_ANSWERS_RULE = {
  name: 'site answers',
  field: 'assessment.status',
  op: 'range',
  min: 200,
  max: 299,
  points: 40,
} as const;

export interface DirectorySourcingOptions {
  /** The account searches it with its own API key. */
  directory: Pick<FakeDirectory, 'url' | 'apiKey'>;
  pageSize: number;
  quotas?: Record<string, number>;
  /** The scoring model: `site answers` plus these rules (tiers A 80, B 40, C 20), under this name. */
  model?: { name?: string; rules?: readonly object[] };
}

/**
 * What the sourcing specs set up before a run: the tenant's `http-directory` source account on
 * the fake directory and a scoring model that passes any business whose site answers.
 */
export async function directorySourcing(
  call: TenantCall,
  options: DirectorySourcingOptions,
): Promise<{ accountId: string; modelId: string }> {
  const accountId = await directoryAccount(call, options);
  const model = await call<{ id: string }>('POST', '/v1/scoring-models', {
    name: options.model?.name ?? 'Any',
    rules: [SITE_ANSWERS_RULE, ...(options.model?.rules ?? [])],
    tiers: { A: 80, B: 40, C: 20 },
  });
  return { accountId, modelId: created(model, 'scoring model') };
}

/** The tenant's `http-directory` source account on the fake directory (no scoring model). */
export async function directoryAccount(
  call: TenantCall,
  options: Omit<DirectorySourcingOptions, 'model'>,
): Promise<string> {
  const account = await call<{ id: string }>('POST', '/v1/source-accounts', {
    name: 'Directory',
    kind: 'http-directory',
    config: {
      base_url: options.directory.url(),
      api_key: options.directory.apiKey,
      page_size: options.pageSize,
    },
    ...(options.quotas ? { quotas: options.quotas } : {}),
  });
  return created(account, 'source account');
}

function created(answer: { status: number; body: { id: string } }, what: string): string {
  if (answer.status !== 201) {
    throw new Error(`creating the ${what} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body.id;
}
