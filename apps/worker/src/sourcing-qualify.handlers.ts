import { Injectable } from '@nestjs/common';
import { OnJob, type JobPayloads } from '@herald/queues';
import { Qualifier, type BatchTally } from '@herald/sourcing';

/**
 * A batch of a run's discovered candidates, each assessed, enriched, scored and handed off in
 * turn. Every step is idempotent per candidate, so a retried or repeated batch (a crash, the
 * outbox relaying twice) redoes nothing already done; an error leaves the job to retry.
 */
@Injectable()
export class SourcingQualifyHandlers {
  constructor(private readonly qualifier: Qualifier) {}

  @OnJob('sourcing.qualify')
  qualify(payload: JobPayloads['sourcing.qualify']): Promise<BatchTally> {
    return this.qualifier.qualifyBatch(payload.tenant_id, payload.run_id, payload.candidate_ids);
  }
}
