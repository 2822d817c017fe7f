/**
 * The raw BullMQ baseline for `bench -- deliveries`: a bare BullMQ worker in its own process,
 * like Herald's worker. It connects, says `ready`, and starts draining only when told `go` on
 * stdin, so the producer has finished (`addBulk`) before the clock starts: the drain alone is
 * measured, at the given concurrency. Prints the elapsed ms once `count` jobs are completed.
 * argv: <redis url> <prefix> <queue> <count> <concurrency>
 */
import { Worker } from 'bullmq';
import { createInterface } from 'node:readline';

const [url, prefix, queue, countArg, concurrencyArg] = process.argv.slice(2);
const count = Number(countArg);
let done = 0;
let started = 0;
const worker = new Worker(queue!, async () => Promise.resolve(), {
  connection: { url: url! },
  prefix: prefix!,
  concurrency: Number(concurrencyArg),
  removeOnComplete: { count: 1000 },
  autorun: false,
});
worker.on('completed', () => {
  done += 1;
  if (done === count) {
    process.stdout.write(`${JSON.stringify({ elapsed_ms: performance.now() - started })}\n`);
    void worker.close().then(() => process.exit(0));
  }
});
void worker.waitUntilReady().then(() => {
  createInterface({ input: process.stdin }).once('line', () => {
    started = performance.now();
    void worker.run();
  });
  process.stdout.write('ready\n');
});
