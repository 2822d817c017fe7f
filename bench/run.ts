/**
 * `npm run bench -- <name> [args]`: runs one benchmark. Each registers here by name; it starts
 * what it needs itself (Postgres, Redis, Herald processes) and prints its figures.
 */
const BENCHMARKS: Record<string, () => Promise<unknown>> = {
  import: async () => (await import('./import.js')).runImportBenchmark(process.argv.slice(3)),
  deliveries: async () => (await import('./deliveries.js')).runDeliveriesBenchmark(process.argv.slice(3)),
  fanout: async () => (await import('./fanout.js')).runFanoutBenchmark(process.argv.slice(3)),
  events: async () => (await import('./events.js')).runEventsBenchmark(process.argv.slice(3)),
  fairness: async () => (await import('./fairness.js')).runFairnessBenchmark(process.argv.slice(3)),
  sourcing: async () => (await import('./sourcing.js')).runSourcingBenchmark(process.argv.slice(3)),
};

async function main(): Promise<number> {
  const name = process.argv[2];
  const run = name ? BENCHMARKS[name] : undefined;
  if (!run) {
    process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}>\n`);
    return 2;
  }
  await run();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
