import { Module } from '@nestjs/common';
import { PersistenceModule } from '@herald/persistence';
import { Experiments } from './experiments.service';

/** A/B/n experiments: results, the beat's evaluation and promotion (campaigns builds no dependency on it). */
@Module({
  imports: [PersistenceModule],
  providers: [Experiments],
  exports: [Experiments],
})
export class ExperimentsModule {}
