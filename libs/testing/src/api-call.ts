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
