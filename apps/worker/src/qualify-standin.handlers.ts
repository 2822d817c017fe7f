import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { SourcingRunProgress } from '@herald/sourcing';
import { OnJob, type JobPayloads } from '@herald/queues';
import type { DataSource } from 'typeorm';

/**
 * STAND-IN, to be deleted when qualifying's own `sourcing.qualify` handler is merged (two
 * handlers of one job fail the boot). A worker consuming the sourcing queue must handle every
 * job of it; until qualifying lands, a batch is only touched: the run records progress and
 * completes once its search is over (the candidates stay `discovered`).
 */
@Injectable()
export class QualifyStandInHandlers {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @OnJob('sourcing.qualify')
  async qualify(payload: JobPayloads['sourcing.qualify']): Promise<string> {
    return SourcingRunProgress.touch(this.dataSource.manager, payload.tenant_id, payload.run_id);
  }
}
