export type HeraldRole = 'api' | 'worker' | 'beat' | 'all';

/**
 * V8 heap flags per role, the same wherever a role starts: the image's entrypoint (and so the
 * chart, fly.toml and compose), the npm start scripts, the dev fleet and the test and benchmark
 * processes (test/deploy/consistency.spec.ts holds them together). Measured in docs/benchmarks.md:
 * - api, beat, all: a small young generation keeps an idle process under 150 MB RSS.
 * - worker: a 16 MB young generation, so a delivery's short-lived objects die young instead of
 *   being promoted.
 * - a worker that does not consume the sourcing queue (WORKER_QUEUES set without it) also caps
 *   its old generation at 104 MB (live data is ~60 MB), so V8 collects it instead of growing it:
 *   peak RSS 186–188 MB instead of 345–366 MB at 50,000 deliveries, for ~10 % more CPU. Sourcing
 *   holds up to SOURCING_FETCH_CONCURRENCY pages and their parse trees at once: under that cap
 *   its collections stalled the event loop past the job lock until a run failed, so a worker
 *   that sources keeps V8's own sizing.
 * Flags in NODE_OPTIONS come after these and win, so an operator can still size a role.
 */
const YOUNG = { small: '--max-semi-space-size=4', worker: '--max-semi-space-size=16' };
const DELIVERY_WORKER_OLD_SPACE = '--max-old-space-size=104';

/** The role's flags; `workerQueues` is the worker's WORKER_QUEUES (empty or unset: every queue). */
export function roleNodeFlags(role: HeraldRole, workerQueues = ''): readonly string[] {
  if (role !== 'worker') return [YOUNG.small];
  const queues = workerQueues
    .split(',')
    .map((q) => q.trim())
    .filter(Boolean);
  return queues.length > 0 && !queues.includes('sourcing')
    ? [YOUNG.worker, DELIVERY_WORKER_OLD_SPACE]
    : [YOUNG.worker];
}

/** NODE_OPTIONS for a process of `role` with environment `env`: its flags first, then env's own (which win). */
export function roleNodeOptions(role: HeraldRole, env: Readonly<Record<string, string | undefined>>): string {
  return [...roleNodeFlags(role, env.WORKER_QUEUES), env.NODE_OPTIONS ?? ''].join(' ').trim();
}
