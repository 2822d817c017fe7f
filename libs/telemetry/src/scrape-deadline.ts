/**
 * How long a collector may wait for Postgres during a scrape. Prometheus gives a scrape 10 s by
 * default (1 s in fast setups); a read stuck behind a saturated pool or a lock must not hold
 * /metrics past that, or every series of the process goes stale exactly while it is in trouble
 * (the pool-waiting gauge included). A late read keeps the gauge's last value.
 */
export const SCRAPE_READ_DEADLINE_MS = 250;

/** `work`'s value, or undefined if it fails or takes longer than the deadline. */
export function withinScrapeDeadline<T>(
  work: Promise<T>,
  ms = SCRAPE_READ_DEADLINE_MS,
): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  return Promise.race([work.catch(() => undefined), late]).finally(() => clearTimeout(timer));
}
