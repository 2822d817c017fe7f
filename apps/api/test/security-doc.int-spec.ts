import { RouteDeclarationCheck } from '@herald/telemetry';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { renderAccessTable, withAccessTable, type DocumentedOperation } from '../src/docs/access-table';
import { TestApi } from '../../../test/support/api-app';

type Document = {
  paths: Record<string, Record<string, { summary: string; 'x-herald-access': string }>>;
};

/**
 * docs/security.md's "who can do what" table is the routes' own declarations, rendered: this
 * fails when a route or its access changes and the page does not. `npm run docs:security`
 * rewrites the table.
 */
describe('docs/security.md', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(async () => {
    await api.close();
  });

  it('shows every route with the access it declares', async () => {
    const document = (await api.request<Document>('GET', '/docs-json', { key: null })).body;
    const operations: DocumentedOperation[] = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        summary: op.summary,
        access: op['x-herald-access'],
      })),
    );
    const table = renderAccessTable(operations, api.app.get(RouteDeclarationCheck).routes());
    const file = join(__dirname, '../../../docs/security.md');
    let current = readFileSync(file, 'utf8');
    // As the repository's formatter lays it out, so `npm run format:check` and this agree.
    const options = { ...(await resolveConfig(file)), filepath: file };
    const expected = await format(withAccessTable(current, table), options);
    if (process.env.HERALD_UPDATE_DOCS === '1') {
      writeFileSync(file, expected);
      current = readFileSync(file, 'utf8');
    }
    expect(current).toBe(expected);
    expect(table).toContain('| `POST /v1/api-keys` | Create an API key | admin | — | — | — | ✓ | — |');
    expect(table).toContain(
      '| `POST /v1/tenants` | Create a tenant and its first admin key | platform | — | — | — | — | ✓ |',
    );
  });
});
