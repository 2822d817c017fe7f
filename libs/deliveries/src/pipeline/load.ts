import type { DeliveryContext, DeliveryRef, LedgerRepository } from '../ledger.repository';
import type { DeliveryJob, Step } from './types';

/** Load: every delivery of the batch with what its send needs, in one query (duplicates once). */
export function loadBatch(
  ledger: Pick<LedgerRepository, 'load'>,
  step: Step,
  jobs: readonly DeliveryJob[],
): Promise<DeliveryContext[]> {
  const refs = new Map<string, DeliveryRef>();
  for (const j of jobs) refs.set(`${j.tenantId}:${j.deliveryId}`, { tenantId: j.tenantId, id: j.deliveryId });
  return step('load', () => ledger.load([...refs.values()]));
}
