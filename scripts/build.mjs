// Compiles every TypeScript source (apps, libs, scripts, bench) with SWC into dist/,
// rewriting the @herald/* path aliases to relative requires, and bundles the console
// (apps/console, Vite) into dist/apps/console, which the api serves at /console. Type checking
// is `npm run typecheck` (tsc --noEmit); this step only transpiles, so it takes about a second
// (the console bundle, a few more, only when its sources changed since the last build).
import { transformFile } from '@swc/core';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist');
const sourceRoots = ['apps', 'libs', 'scripts', 'bench', 'test/support'];
const skip = /\.(spec|int-spec|e2e-spec|bench-spec)\.ts$|\.d\.ts$/;
const consoleStamp = join(outDir, '.console-inputs');
// What the console bundle is made of: when none of it changed, the last bundle is kept.
const consoleInputs = ['apps/console', 'libs/api-client/src', 'package-lock.json'];

async function* walk(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const full = join(dir, entry.name);
    // The console is browser code that Vite bundles (buildConsole), not a Node program.
    if (entry.isDirectory()) {
      if (full !== join(root, 'apps', 'console')) yield* walk(full);
    } else if (entry.name.endsWith('.ts') && !skip.test(entry.name)) yield full;
  }
}

const libs = await readdir(join(root, 'libs'), { withFileTypes: true });
const apps = await readdir(join(root, 'apps'), { withFileTypes: true });
// `@herald/<lib>`, and `@herald/app-<app>`: an app's public index, which only apps/all imports.
const paths = Object.fromEntries([
  ...libs.filter((d) => d.isDirectory()).map((d) => [`@herald/${d.name}`, [`libs/${d.name}/src/index.ts`]]),
  ...apps
    .filter((d) => d.isDirectory())
    .map((d) => [`@herald/app-${d.name}`, [`apps/${d.name}/src/index.ts`]]),
]);

const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2023',
    keepClassNames: true,
    baseUrl: root,
    paths,
  },
  module: { type: 'commonjs', strictMode: true },
  sourceMaps: true,
};

async function consoleHash() {
  const hash = createHash('sha256');
  for (const input of consoleInputs) {
    const entries = await readdir(join(root, input), { recursive: true, withFileTypes: true }).catch(
      () => null,
    );
    const files = entries
      ? entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
      : [join(root, input)];
    for (const file of files.sort()) hash.update(relative(root, file)).update(await readFile(file));
  }
  return hash.digest('hex');
}

/** Empties dist/ but keeps the console bundle and its stamp when its inputs are unchanged. */
async function clean(keepConsole) {
  if (!keepConsole) return rm(outDir, { recursive: true, force: true });
  const remove = async (dir, keep) => {
    for (const name of await readdir(dir).catch(() => []))
      if (!keep.includes(name)) await rm(join(dir, name), { recursive: true, force: true });
  };
  await remove(outDir, ['apps', '.console-inputs']);
  await remove(join(outDir, 'apps'), ['console']);
}

async function buildConsole(hash) {
  const { build } = await import('vite');
  await build({ configFile: join(root, 'apps/console/vite.config.mts'), logLevel: 'warn' });
  await writeFile(consoleStamp, hash);
}

const started = performance.now();
const hash = await consoleHash();
const unchanged = (await readFile(consoleStamp, 'utf8').catch(() => '')) === hash;
await clean(unchanged);
const consoleBuilt = unchanged ? Promise.resolve(false) : buildConsole(hash).then(() => true);
const files = [];
for (const src of sourceRoots) for await (const file of walk(join(root, src))) files.push(file);
await Promise.all(
  files.map(async (file) => {
    const rel = relative(root, file).replace(/\.ts$/, '.js');
    const target = join(outDir, rel);
    const { code, map } = await transformFile(file, {
      ...options,
      filename: file,
      sourceFileName: relative(dirname(target), file),
    });
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, `${code}\n//# sourceMappingURL=${rel.split('/').pop()}.map\n`);
    if (map) await writeFile(`${target}.map`, map);
  }),
);
// package.json's bins run as `npx herald`: npm execs the file itself, so it must be executable.
const { bin = {} } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
await Promise.all(Object.values(bin).map((file) => chmod(join(root, file), 0o755)));
const bundled = await consoleBuilt;
process.stderr.write(
  `build: ${files.length} files${bundled ? ' and the console bundle' : ''} in ${Math.round(performance.now() - started)} ms\n`,
);
