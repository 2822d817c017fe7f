/**
 * Delivery keys name what must never be sent twice (promise 2). The ledger holds one row per
 * key per tenant, and providers see the key (Idempotency-Key header, Message-ID).
 * The values are stored forever: never change a format, only add.
 */
export const DeliveryKeys = {
  /** A broadcast reaches a contact once per run. */
  broadcast: (runId: string, contactId: string): string => `bc:${runId}:${contactId}`,
  /** A birthday greets a contact once per campaign and year, whatever happens. */
  birthday: (campaignId: string, contactId: string, year: number): string =>
    `bd:${campaignId}:${contactId}:${year}`,
  /** A sequence sends each step of an enrollment once. */
  sequence: (enrollmentId: string, step: number): string => `sq:${enrollmentId}:${step}`,
} as const;
