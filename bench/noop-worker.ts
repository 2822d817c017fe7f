/**
 * The baseline for `bench -- deliveries`: a bare BullMQ worker that completes `count` no-op jobs
 * at the given concurrency, in its own process like Herald's worker. Prints the elapsed ms.
 * argv: <redis url> <prefix> <queue> <count> <concurrency>
 */
import { Worker } from 'bullmq';

const [url, prefix, queue, countArg, concurrencyArg] = process.argv.slice(2);
const count = Number(countArg);
let done = 0;
let started = 0;
const worker = new Worker(
  queue!,
  async () => {
    if (started === 0) started = performance.now();
    return Promise.resolve();
  },
  {
    connection: { url: url! },
    prefix: prefix!,
    concurrency: Number(concurrencyArg),
    removeOnComplete: { count: 1000 },
  },
);
worker.on('completed', () => {
  done += 1;
  if (done === count) {
    process.stdout.write(`${JSON.stringify({ elapsed_ms: performance.now() - started })}\n`);
    void worker.close().then(() => process.exit(0));
  }
});
process.stdout.write('ready\n');
