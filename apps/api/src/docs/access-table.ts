import type { DeclaredRoute } from '@herald/telemetry';

/** The parts of an OpenAPI operation the table shows. */
export interface DocumentedOperation {
  method: string;
  path: string;
  summary: string;
  access: string;
}

const CALLERS = ['no key', 'read key', 'write key', 'admin key', 'platform admin key'] as const;
type Caller = (typeof CALLERS)[number];

/** What each kind of caller may do with a route of this access, on the public port. */
function allowed(access: string, caller: Caller): string {
  switch (access) {
    case 'probe':
      return '✓';
    case 'public':
      return '✓';
    case 'platform':
      return caller === 'platform admin key' ? '✓' : '—';
    case 'operator':
      return caller === 'admin key' ? 'own tenant' : caller === 'platform admin key' ? 'all tenants' : '—';
    case 'read':
      return ['read key', 'write key', 'admin key'].includes(caller) ? '✓' : '—';
    case 'write':
      return ['write key', 'admin key'].includes(caller) ? '✓' : '—';
    case 'admin':
      return caller === 'admin key' ? '✓' : '—';
    default:
      return '—';
  }
}

/**
 * The "who can do what" table of docs/security.md, made from what the routes declare (the
 * OpenAPI document for API routes, the boot-time route list for probes and ops routes), so the
 * page cannot drift from the code: a test renders it and compares.
 */
export function renderAccessTable(
  operations: readonly DocumentedOperation[],
  routes: readonly DeclaredRoute[],
): string {
  const rows = [
    ...routes
      .filter((r) => r.access === 'probe' || r.access === 'ops')
      .map((r) => ({
        route: `${r.method} ${r.path}`,
        what: r.access === 'probe' ? 'Liveness / readiness probe' : 'Operations endpoint',
        access: r.access,
      })),
    ...operations.map((o) => ({ route: `${o.method} ${o.path}`, what: o.summary, access: o.access })),
  ].sort(
    (a, b) => a.route.split(' ')[1]!.localeCompare(b.route.split(' ')[1]!) || a.route.localeCompare(b.route),
  );
  const header = `| route | what | access | ${CALLERS.join(' | ')} |`;
  const rule = `|${' --- |'.repeat(3 + CALLERS.length)}`;
  const lines = rows.map((row) =>
    row.access === 'ops'
      ? `| \`${row.route}\` | ${row.what} | ops | ${CALLERS.map(() => 'ops port').join(' | ')} |`
      : `| \`${row.route}\` | ${row.what} | ${row.access} | ${CALLERS.map((c) => allowed(row.access, c)).join(' | ')} |`,
  );
  return [header, rule, ...lines].join('\n');
}

export const ACCESS_TABLE_START =
  '<!-- access-table:start (generated from the route declarations; do not edit) -->';
export const ACCESS_TABLE_END = '<!-- access-table:end -->';

/** `markdown` with the text between the table markers replaced by `table`. */
export function withAccessTable(markdown: string, table: string): string {
  const start = markdown.indexOf(ACCESS_TABLE_START);
  const end = markdown.indexOf(ACCESS_TABLE_END);
  if (start === -1 || end === -1 || end < start)
    throw new Error('docs/security.md lacks the access-table markers');
  return `${markdown.slice(0, start + ACCESS_TABLE_START.length)}\n${table}\n${markdown.slice(end)}`;
}
