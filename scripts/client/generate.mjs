// Regenerates libs/api-client/src/generated from the api's OpenAPI document (`npm run
// client:generate`), or with --check exits 1 naming the files a regeneration would change.
// An ES module because @hey-api/openapi-ts is ESM-only; the document comes from the built api
// (run `npm run build` first: the npm scripts do).
import { createClient } from '@hey-api/openapi-ts';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const generatedDir = join(root, 'libs/api-client/src/generated');
const { openApiDocument } = createRequire(import.meta.url)(
  join(root, 'dist/scripts/client/openapi-document.js'),
);

async function generate(outDir) {
  await createClient({
    input: await openApiDocument(),
    output: { path: outDir, clean: true, importFileExtension: null, tsConfigPath: null },
    plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
    logs: { level: 'silent' },
  });
  const options = await resolveConfig(join(root, 'package.json'));
  for (const file of await filesUnder(outDir)) {
    const text = await readFile(file, 'utf8');
    await writeFile(file, await format(text, { ...options, filepath: file }));
  }
}

async function filesUnder(dir) {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function staleFiles() {
  const fresh = await mkdtemp(join(tmpdir(), 'herald-client-'));
  try {
    await generate(fresh);
    const names = new Set([
      ...(await filesUnder(fresh)).map((f) => relative(fresh, f)),
      ...(await filesUnder(generatedDir)).map((f) => relative(generatedDir, f)),
    ]);
    const stale = [];
    for (const name of [...names].sort()) {
      const read = (dir) => readFile(join(dir, name), 'utf8').catch(() => null);
      if ((await read(fresh)) !== (await read(generatedDir))) stale.push(name);
    }
    return stale;
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
}

if (process.argv.includes('--check')) {
  const stale = await staleFiles();
  if (stale.length > 0) {
    process.stderr.write(`the api client is stale, run npm run client:generate: ${stale.join(', ')}\n`);
    process.exit(1);
  }
  process.stderr.write('the api client matches the OpenAPI document\n');
} else {
  await generate(generatedDir);
  process.stderr.write(`api client written to ${relative(root, generatedDir)}\n`);
}
// Nest's preview app leaves nothing open, but a stray handle must not hang CI.
process.exit(0);
