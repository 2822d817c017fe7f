import pLimit from 'p-limit';

/**
 * The worker's bound on requests open at once to websites and enrichment providers
 * (SOURCING_FETCH_CONCURRENCY). A candidate waiting for its domain's pace holds no slot: only
 * a request on its way does, so slow sites and paced domains never idle the others.
 */
export class FetchSlots {
  private readonly limit: pLimit.Limit;

  constructor(readonly size: number) {
    this.limit = pLimit(size);
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    return this.limit(work);
  }

  /** Requests on their way now. */
  get busy(): number {
    return this.limit.activeCount;
  }
}
