import { Module } from '@nestjs/common';
import { DeliveriesModule } from '@herald/deliveries';
import { SequencesModule } from '@herald/sequences';
import { BeatDuties } from './beat-duties';
import { LeaderLease } from './leader-lease';

/** Beat's duties run only while it holds the leader lease. */
@Module({ imports: [DeliveriesModule, SequencesModule], providers: [LeaderLease, BeatDuties], exports: [LeaderLease] })
export class BeatModule {}
