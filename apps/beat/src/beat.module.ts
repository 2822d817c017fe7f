import { Module } from '@nestjs/common';
import { LeaderLease } from './leader-lease';

/** Beat's duties run only while it holds the leader lease; later duties subscribe to LeaderLease. */
@Module({ providers: [LeaderLease], exports: [LeaderLease] })
export class BeatModule {}
