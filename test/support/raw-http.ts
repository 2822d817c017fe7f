import { Agent, request } from 'node:http';

export interface RawResponse {
  status: number;
  body: { detail?: string; type?: string } | undefined;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/**
 * One request with the path sent byte for byte: fetch and URL normalise `.`/`..` segments,
 * percent-encodings and slashes away, which is exactly what these tests must not do.
 */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          ...headers,
          ...(body !== undefined
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: RawResponse['body'];
          try {
            parsed = text ? (JSON.parse(text) as RawResponse['body']) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Whether a 404 says "no such route" (the spelling reached no handler), not "no such resource". */
export function isNoRoute(res: RawResponse): boolean {
  return (
    res.status === 404 && typeof res.body?.detail === 'string' && res.body.detail.startsWith('No route ')
  );
}

/**
 * Other spellings of a canonical path (`/v1/contacts/…`): case, dot segments, doubled and
 * encoded slashes, encoded letters and dots, a trailing slash. Each must reach no handler, or
 * the same handler under the same check.
 */
export function spellingsOf(path: string): [string, string][] {
  const [, first = '', second = '', ...rest] = path.split('/');
  const tail = rest.length > 0 ? `/${rest.join('/')}` : '';
  const encodedLetter = second
    ? `%${second.charCodeAt(0).toString(16)}${second.slice(1)}`
    : `%${first.charCodeAt(0).toString(16)}${first.slice(1)}`;
  const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const spellings: [string, string][] = [
    ['upper-case prefix', `/${first.toUpperCase()}/${second}${tail}`],
    ['mixed case', `/${first}/${capital(second)}${tail}`],
    ['all upper case', path.toUpperCase()],
    ['/./', `/${first}/./${second}${tail}`],
    ['/../', `/${first}/x/../${second}${tail}`],
    ['//', `/${first}//${second}${tail}`],
    ['leading //', `/${path}`],
    ['%2F', `/${first}%2F${second}${tail}`],
    ['%2e segment', `/${first}/%2e/${second}${tail}`],
    ['percent-encoded letter', second ? `/${first}/${encodedLetter}${tail}` : `/${encodedLetter}${tail}`],
    ['trailing slash', `${path}/`],
  ];
  return spellings.filter(([, spelled]) => spelled !== path);
}
