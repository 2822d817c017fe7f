/** A Herald API answer: status, parsed JSON body (undefined when empty) and headers. */
export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** A failed call, with the problem document's title and detail when Herald sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly problem: { title?: string; detail?: string; type?: string } | undefined,
  ) {
    super(
      `${method} ${path} answered ${status}${problem?.title ? `: ${problem.title}` : ''}${
        problem?.detail && problem.detail !== problem.title ? ` — ${problem.detail}` : ''
      }`,
    );
  }
}

/** The few lines of fetch the dev script needs to talk to Herald's public API with one key. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly key: string,
  ) {}

  withKey(key: string): ApiClient {
    return new ApiClient(this.baseUrl, key);
  }

  /** Calls the API; throws ApiError unless the status is 2xx or listed in `accept`. */
  async call<T>(
    method: 'GET' | 'POST',
    path: string,
    options: { body?: unknown; idempotencyKey?: string; accept?: number[]; timeoutMs?: number } = {},
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    const res = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if ((res.status < 200 || res.status > 299) && !options.accept?.includes(res.status)) {
      throw new ApiError(res.status, method, path, body as ApiError['problem']);
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }

  async get<T>(path: string, accept?: number[]): Promise<ApiAnswer<T>> {
    return this.call<T>('GET', path, { accept });
  }
}
