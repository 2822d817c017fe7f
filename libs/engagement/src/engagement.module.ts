import { Module } from '@nestjs/common';
import { PersistenceModule } from '@herald/persistence';
import { EngagementRecorder } from './engagement-recorder';

/** Engagement: what happened after a send, recorded once per source event, and what is derived from it. */
@Module({
  imports: [PersistenceModule],
  providers: [EngagementRecorder],
  exports: [EngagementRecorder],
})
export class EngagementModule {}
