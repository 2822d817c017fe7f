import { createClient, createConfig, type Client } from './generated/client';

/**
 * A client that authenticates every call with an API key (the CLI, the dev script); the
 * browser uses the shared `client` with its session cookie instead.
 */
export function keyClient(baseUrl: string, key: string, options: { fetch?: typeof fetch } = {}): Client {
  return createClient(
    createConfig({
      baseUrl: baseUrl.replace(/\/+$/, ''),
      headers: { Authorization: `Bearer ${key}` },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    }),
  );
}
