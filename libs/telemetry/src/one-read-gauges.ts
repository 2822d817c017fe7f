import { Gauge } from 'prom-client';
import { getOrCreate } from './metrics';
import { withinScrapeDeadline } from './scrape-deadline';

/** How long one read serves the gauges of a scrape. */
const READ_REUSE_MS = 1000;

/**
 * Gauges that one read values at scrape time (a count and an age from one query, say): however
 * many of them a scrape collects, the read runs at most once a second, within the scrape
 * deadline; a failed or late read leaves each gauge at its last value.
 */
export function gaugesOfOneRead<K extends string>(
  read: () => Promise<Record<K, number>>,
  gauges: Record<K, { name: string; help: string }>,
): void {
  let last: Promise<Record<K, number> | undefined> | undefined;
  let lastAt = 0;
  const values = () => {
    if (!last || Date.now() - lastAt > READ_REUSE_MS) {
      lastAt = Date.now();
      last = withinScrapeDeadline(read());
    }
    return last;
  };
  for (const key of Object.keys(gauges) as K[]) {
    const { name, help } = gauges[key];
    getOrCreate(
      name,
      () =>
        new Gauge({
          name,
          help,
          async collect() {
            const value = await values();
            if (value) this.set(value[key]);
          },
        }),
    );
  }
}
