import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { preProcessFile } from 'typescript';

const ROOT = resolve(__dirname, '../..');
const LIBS = readdirSync(join(ROOT, 'libs'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const TEST_FILE = /\.(spec|int-spec|e2e-spec)\.ts$/;

/**
 * Which lib may not depend on which, directly or through others (issue 16, item 6): deliveries
 * owns the ledger, the pipeline, channels' use and the outbox relay, and knows nothing of the
 * campaigns and sequences built on it; campaigns reaches deliveries through its exports.
 */
const NEVER: readonly (readonly [from: string, to: string])[] = [
  ['deliveries', 'campaigns'],
  ['deliveries', 'sequences'],
  ['campaigns', 'sequences'],
];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic (TypeScript's own scanner). */
function specifiers(file: string): string[] {
  return preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

/** A relative import's target lib (undefined outside libs/), or the lib of `@herald/<lib>`. */
function targetLib(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) {
    const target = relative(join(ROOT, 'libs'), resolve(file, '..', specifier));
    return target.startsWith('..') ? undefined : target.split(sep)[0];
  }
  return /^@herald\/([^/]+)/.exec(specifier)?.[1];
}

/** The libs' production sources (tests may use any lib, the harness included): lib → the libs it imports. */
function libGraph(): Map<string, Set<string>> {
  const graph = new Map(LIBS.map((lib) => [lib, new Set<string>()]));
  for (const lib of LIBS) {
    for (const file of tsFiles(join(ROOT, 'libs', lib, 'src')).filter((f) => !TEST_FILE.test(f))) {
      for (const specifier of specifiers(file)) {
        const target = targetLib(file, specifier);
        if (target && target !== lib) graph.get(lib)!.add(target);
      }
    }
  }
  return graph;
}

function reachable(graph: Map<string, Set<string>>, from: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(graph.get(from) ?? [])];
  while (stack.length > 0) {
    const lib = stack.pop()!;
    if (seen.has(lib)) continue;
    seen.add(lib);
    stack.push(...(graph.get(lib) ?? []));
  }
  return seen;
}

/** A dependency cycle as `a → b → a`, or undefined when the graph has none. */
function findCycle(graph: Map<string, Set<string>>): string | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (lib: string): string | undefined => {
    if (state.get(lib) === 'done') return undefined;
    if (state.get(lib) === 'open') return [...path.slice(path.indexOf(lib)), lib].join(' → ');
    state.set(lib, 'open');
    path.push(lib);
    for (const next of graph.get(lib) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(lib, 'done');
    return undefined;
  };
  for (const lib of graph.keys()) {
    const cycle = visit(lib);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('lib dependencies go one way', () => {
  const graph = libGraph();

  it('reads the imports of every lib (campaigns → deliveries, sequences → campaigns)', () => {
    expect(LIBS).toEqual(expect.arrayContaining(['campaigns', 'deliveries', 'sequences']));
    expect([...graph.get('campaigns')!]).toContain('deliveries');
    expect([...graph.get('sequences')!]).toContain('campaigns');
  });

  it('has no cycle between libs', () => {
    expect(findCycle(graph)).toBeUndefined();
  });

  it.each(NEVER.map(([from, to]) => [from, to]))(
    '%s does not depend on %s, not even through another lib',
    (from, to) => {
      expect(reachable(graph, from).has(to)).toBe(false);
    },
  );

  it('nothing in libs/deliveries, tests included, imports @herald/campaigns or @herald/sequences', () => {
    const offending = tsFiles(join(ROOT, 'libs/deliveries')).flatMap((file) =>
      specifiers(file)
        .filter((s) => ['campaigns', 'sequences'].includes(targetLib(file, s) ?? ''))
        .map((s) => `${relative(ROOT, file)} imports ${s}`),
    );
    expect(offending).toEqual([]);
  });

  it('no lib imports an app, or a file outside libs/', () => {
    const offending = LIBS.flatMap((lib) =>
      tsFiles(join(ROOT, 'libs', lib, 'src'))
        .filter((f) => !TEST_FILE.test(f))
        .flatMap((file) =>
          specifiers(file)
            .filter(
              (s) => s.startsWith('@herald/app-') || (s.startsWith('.') && targetLib(file, s) === undefined),
            )
            .map((s) => `${relative(ROOT, file)} imports ${s}`),
        ),
    );
    expect(offending).toEqual([]);
  });

  it('only campaigns writes campaign_runs (libs/testing seeds fixtures, so it is left out)', () => {
    const WRITE = /\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+campaign_runs\b/i;
    const writers = LIBS.filter((lib) => lib !== 'testing').flatMap((lib) =>
      tsFiles(join(ROOT, 'libs', lib, 'src'))
        .filter((f) => !TEST_FILE.test(f) && WRITE.test(readFileSync(f, 'utf8')))
        .map((f) => relative(ROOT, f)),
    );
    expect(writers.length).toBeGreaterThan(0);
    expect(writers.filter((f) => !f.startsWith(`libs${sep}campaigns${sep}`))).toEqual([]);
  });

  it('finds a cycle and a forbidden path when there is one (the checks can fail)', () => {
    const bad = new Map([
      ['deliveries', new Set(['time', 'campaigns'])],
      ['campaigns', new Set(['deliveries'])],
      ['time', new Set<string>()],
    ]);
    expect(findCycle(bad)).toMatch(/deliveries → campaigns → deliveries|campaigns → deliveries → campaigns/);
    expect(reachable(bad, 'deliveries').has('campaigns')).toBe(true);
  });
});
