type Pending<I, O> = { item: I; resolve: (o: O) => void; reject: (e: unknown) => void };

/**
 * Gathers items submitted by concurrent callers and hands them to `flush` together: at once
 * when `maxSize` are waiting, otherwise `lingerMs` after the first one arrived (0: the next turn
 * of the event loop). One round trip then serves a whole batch of jobs instead of one each.
 * Each caller gets its own result.
 *
 * With `maxConcurrent`, no more than that many flushes run at once (group commit): what arrives
 * while they are busy waits and goes in the next one, as soon as one returns. Batches then grow
 * with the load by themselves, so a busy process makes fewer, larger statements, and they do not
 * queue behind each other's row locks.
 */
export class MicroBatcher<I, O> {
  private pending: Pending<I, O>[] = [];
  private scheduled = false;
  private flushing = 0;

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly maxSize = 500,
    private readonly lingerMs = 0,
    private readonly maxConcurrent = Number.POSITIVE_INFINITY,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.flushing >= this.maxConcurrent) return; // the next completion takes it
      if (this.pending.length >= this.maxSize) this.drain();
      else if (!this.scheduled) {
        this.scheduled = true;
        if (this.lingerMs > 0) setTimeout(() => this.drain(), this.lingerMs);
        else setImmediate(() => this.drain());
      }
    });
  }

  private drain(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.flushing >= this.maxConcurrent) return;
    const batch = this.pending.slice(0, this.maxSize);
    this.pending = this.pending.slice(batch.length);
    this.flushing += 1;
    void this.flush(batch.map((p) => p.item))
      .then(
        (results) => {
          if (results.length !== batch.length) {
            const error = new Error(
              `batch flush returned ${results.length} results for ${batch.length} items`,
            );
            for (const p of batch) p.reject(error);
            return;
          }
          batch.forEach((p, i) => p.resolve(results[i] as O));
        },
        (error: unknown) => {
          for (const p of batch) p.reject(error);
        },
      )
      .finally(() => {
        this.flushing -= 1;
        // What waited behind this flush has waited a round trip already: it goes now.
        if (this.pending.length > 0 && !this.scheduled) this.drain();
      });
  }
}
