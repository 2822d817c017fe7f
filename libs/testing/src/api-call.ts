/** What a test reads of an HTTP answer: the status and the parsed JSON body (undefined when empty). */
export interface ApiAnswer<T> {
  status: number;
  body: T;
}

/**
 * One request to a running api, as a client would make it: a bearer key, a JSON body when given.
 * `baseUrl` is the api's public URL (HeraldProcess.publicUrl).
 */
export async function callApi<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  key: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiAnswer<T>> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** A tenant as a test drives it: its id and the admin key its creation returned. */
export interface CreatedTenant {
  id: string;
  key: string;
}

/**
 * Creates a tenant through the api with the platform key, as an operator would; anything but a
 * 201 fails the caller with the answer, so a setup problem reads as one.
 */
export async function createTenant(
  baseUrl: string,
  platformKey: string,
  name: string,
  timeZone = 'Europe/Paris',
): Promise<CreatedTenant> {
  const created = await callApi<{ id: string; api_key: { key: string } }>(
    baseUrl,
    'POST',
    '/v1/tenants',
    platformKey,
    { name, time_zone: timeZone },
  );
  if (created.status !== 201) {
    throw new Error(`POST /v1/tenants answered ${created.status}: ${JSON.stringify(created.body)}`);
  }
  return { id: created.body.id, key: created.body.api_key.key };
}
