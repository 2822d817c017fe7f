import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import type { Setting } from './floors';

/**
 * The raw floor of a sourcing run: the same HTTP fetches Herald makes for it (the directory's
 * pages, then per business robots.txt and its page with the redirects followed, and the
 * enrichment lookup by domain), by a bare undici loop at a given concurrency: no database, no
 * queue, no per-domain pace, nothing parsed but the directory's JSON.
 */
export interface BaselineWork {
  directoryUrl: string;
  directoryKey: string;
  pageSize: number;
  limit: number;
  maxRedirects: number;
  /** The enrichment lookup URL and key, when the Herald run made lookups (else none are made). */
  enrichment?: { url: string; apiKey: string };
}

/** *.sites.test → 127.0.0.1 as OUTBOUND_HOST_OVERRIDES does for the worker. */
const sitesLookup: LookupFunction = (hostname, options, callback) => {
  if (hostname.endsWith('.sites.test')) {
    if (options.all)
      (callback as (e: null, a: LookupAddress[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
    return;
  }
  dnsLookup(hostname, options, callback);
};

export async function rawSourcing(
  work: BaselineWork,
  concurrencies: readonly number[],
): Promise<{ best: Setting; tried: Setting[]; fetches: number }> {
  const tried: Setting[] = [];
  let fetches = 0;
  for (const concurrency of concurrencies) {
    const run = await rawOnce(work, concurrency);
    fetches = run.fetches;
    tried.push({ setting: `concurrency ${concurrency}`, perSecond: work.limit / (run.ms / 1000) });
  }
  return { best: tried.reduce((a, b) => (b.perSecond > a.perSecond ? b : a)), tried, fetches };
}

async function rawOnce(work: BaselineWork, concurrency: number): Promise<{ ms: number; fetches: number }> {
  // The fake sites' certificate is self-signed: Herald reads such pages too (and records the error).
  const agent = new Agent({ connect: { rejectUnauthorized: false, lookup: sitesLookup } });
  let fetches = 0;
  const get = async (url: string, headers: Record<string, string> = {}) => {
    fetches++;
    const res = await request(url, {
      dispatcher: agent,
      headers,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const body = await res.body.text();
    return { status: res.statusCode, location: res.headers.location, body };
  };
  const started = performance.now();
  try {
    // The directory's pages, one after the other: each names the next cursor.
    const websites: string[] = [];
    let cursor: string | null = '0';
    while (cursor !== null && websites.length < work.limit) {
      const url = new URL(work.directoryUrl);
      url.searchParams.set('limit', String(work.pageSize));
      url.searchParams.set('cursor', cursor);
      const page = await get(url.toString(), { authorization: `Bearer ${work.directoryKey}` });
      const json = JSON.parse(page.body) as { results: { website: string }[]; next_cursor: string | null };
      websites.push(...json.results.map((r) => r.website));
      cursor = json.next_cursor;
    }
    websites.length = Math.min(websites.length, work.limit);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < websites.length) {
          const website = websites[next++]!;
          await get(new URL('/robots.txt', website).toString()).catch(() => undefined);
          let url = website;
          for (let hop = 0; hop <= work.maxRedirects; hop++) {
            const page = await get(url).catch(() => undefined);
            const location = page && page.status >= 300 && page.status < 400 ? page.location : undefined;
            if (typeof location !== 'string') break;
            url = new URL(location, url).toString();
          }
          if (work.enrichment) {
            const lookup = new URL(work.enrichment.url);
            lookup.searchParams.set('domain', new URL(website).hostname);
            await get(lookup.toString(), { authorization: `Bearer ${work.enrichment.apiKey}` }).catch(
              () => undefined,
            );
          }
        }
      }),
    );
    return { ms: performance.now() - started, fetches };
  } finally {
    await agent.close();
  }
}
