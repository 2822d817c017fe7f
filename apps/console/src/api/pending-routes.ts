import { unwrap } from '@herald/api-client';
import { client } from './client';

/*
 * Routes the console needs that the api's OpenAPI document does not describe yet (issue #13's
 * api half adds them). They go through the same generated client; once the routes land,
 * `npm run client:generate` gives typed functions and these move to them. Until then the page
 * shows the api's 404 problem ("No route GET …") in its error state.
 */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface TenantSummary {
  id: string;
  name: string;
  time_zone: string;
  created_at: string;
}

export interface RunDelivery {
  id: string;
  contact_id: string;
  email?: string | null;
  status: string;
  last_error: string | null;
  reason?: string | null;
  attempts: number;
  updated_at: string;
}

export const listTenants = () => unwrap(client.get<{ 200: Page<TenantSummary> }>({ url: '/v1/tenants' }));

export const runDeliveries = (id: string, status?: string) =>
  unwrap(
    client.get<{ 200: Page<RunDelivery> }>({
      url: '/v1/runs/{id}/deliveries',
      path: { id },
      query: status ? { status } : {},
    }),
  );

export const setSenderPaused = (id: string, paused: boolean) =>
  unwrap(
    client.post<{ 200: unknown }>({
      url: `/v1/sender-accounts/{id}/${paused ? 'pause' : 'resume'}`,
      path: { id },
    }),
  );
