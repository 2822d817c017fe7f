// Compiles every TypeScript source (apps, libs, scripts, bench) with SWC into dist/,
// rewriting the @herald/* path aliases to relative requires. Type checking is
// `npm run typecheck` (tsc --noEmit); this step only transpiles, so it takes about a second.
import { transformFile } from '@swc/core';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist');
const sourceRoots = ['apps', 'libs', 'scripts', 'bench', 'test/support'];
const skip = /\.(spec|int-spec|e2e-spec|bench-spec)\.ts$|\.d\.ts$/;

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
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.name.endsWith('.ts') && !skip.test(entry.name)) yield full;
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

const started = performance.now();
await rm(outDir, { recursive: true, force: true });
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
process.stderr.write(`build: ${files.length} files in ${Math.round(performance.now() - started)} ms\n`);
