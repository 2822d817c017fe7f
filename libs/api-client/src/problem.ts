/** The RFC 9457 problem document every Herald 4xx/5xx carries (see the Problem schema). */
export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { field: string; message: string }[];
  request_id?: string;
}

/** A call that did not answer 2xx: its status and, when Herald sent one, the problem document. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemBody | undefined,
    readonly method: string | undefined = undefined,
    readonly path: string | undefined = undefined,
  ) {
    const what = problem?.detail ?? problem?.title ?? `answered ${status}`;
    super(method ? `${method} ${path} answered ${status}: ${what}` : what);
    this.name = 'ApiProblem';
  }

  /** What a person should read: the problem's detail, else its title, else the status. */
  get detail(): string {
    return this.problem?.detail ?? this.problem?.title ?? `The server answered ${this.status}.`;
  }
}

function isProblem(value: unknown): value is ProblemBody {
  return typeof value === 'object' && value !== null && ('detail' in value || 'title' in value);
}

/** The fields a generated SDK call resolves to (responseStyle 'fields', throwOnError false). */
export interface CallResult<T> {
  data?: T;
  error?: unknown;
  request?: Request;
  response?: Response;
}

/**
 * A generated SDK call's data, or an ApiProblem for any non-2xx answer: the SDK itself returns
 * errors as values, which every caller would otherwise unpack the same way.
 */
export async function unwrap<T>(call: Promise<CallResult<T>>): Promise<T> {
  const result = await call;
  // No response: the request never got one (network down, aborted); the client passes on why.
  if (!result.response) throw result.error instanceof Error ? result.error : new Error(String(result.error));
  if (result.response.ok) return result.data as T;
  throw new ApiProblem(
    result.response.status,
    isProblem(result.error) ? result.error : undefined,
    result.request?.method,
    result.request ? new URL(result.request.url).pathname : undefined,
  );
}
