/** One MIME entity: its headers (names lower-cased, folded lines joined) and its decoded body or parts. */
export interface MimeEntity {
  headers: Map<string, string>;
  /** `text/plain`, `multipart/alternative`… (lower-cased, without parameters). */
  contentType: string;
  /** The decoded body (UTF-8) of a leaf entity; '' for a multipart one. */
  body: string;
  parts: MimeEntity[];
}

/**
 * Just enough MIME for tests to read what an SMTP sink received (headers, multipart, quoted-
 * printable and base64): no mail parser is installed, and the tests only read Herald's own output.
 */
export function readMime(raw: Buffer | string): MimeEntity {
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  const split = /\r?\n\r?\n/.exec(text);
  const head = split ? text.slice(0, split.index) : text;
  const rest = split ? text.slice(split.index + split[0].length) : '';
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  const type = headers.get('content-type') ?? 'text/plain';
  const contentType = type.split(';')[0]!.trim().toLowerCase();
  if (contentType.startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (!boundary) return { headers, contentType, body: '', parts: [] };
    const sections = rest.split(new RegExp(`\\r?\\n?--${escapeRegExp(boundary)}(?:--)?[ \\t]*\\r?\\n?`));
    const parts = sections
      .slice(1, -1)
      .filter((s) => s.trim() !== '')
      .map((s) => readMime(s));
    return { headers, contentType, body: '', parts };
  }
  return { headers, contentType, body: decode(rest, headers.get('content-transfer-encoding')), parts: [] };
}

/** Every leaf of the entity, depth first. */
export function mimeLeaves(entity: MimeEntity): MimeEntity[] {
  return entity.parts.length === 0 ? [entity] : entity.parts.flatMap(mimeLeaves);
}

function decode(body: string, encoding: string | undefined): string {
  const kind = encoding?.toLowerCase();
  const bytes =
    kind === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
      : kind === 'quoted-printable'
        ? Buffer.from(
            body
              .replace(/=\r?\n/g, '')
              .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            'latin1',
          )
        : Buffer.from(body, 'latin1');
  // Lines travel as CRLF: read as the text was written.
  return bytes.toString('utf8').replace(/\r\n/g, '\n');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
