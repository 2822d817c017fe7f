/** `POST /v1/provider-events/:sender_account_id/:provider`, exactly as the router matches it. */
const PATH = /^\/v1\/provider-events\/[^/]+\/[^/]+$/;

/**
 * A provider's webhook call: it carries no Herald key (its signature is checked by the handler)
 * and its body is read raw by the handler (the signature covers the bytes; SNS posts text/plain),
 * so the /v1 key and JSON body middleware let it pass. Any other spelling gets their checks.
 */
export function isProviderEventRequest(req: { method: string; originalUrl: string }): boolean {
  return req.method === 'POST' && PATH.test(req.originalUrl.split('?')[0]!);
}
