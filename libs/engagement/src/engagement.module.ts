import { Module } from '@nestjs/common';
import { PersistenceModule } from '@herald/persistence';
import { AnalyticsReader } from './analytics/analytics-reader';
import { EngagementRecorder } from './engagement-recorder';

/** Engagement: what happened after a send, recorded once per source event, and what is derived from it. */
@Module({
  imports: [PersistenceModule],
  providers: [EngagementRecorder, AnalyticsReader],
  exports: [EngagementRecorder, AnalyticsReader],
})
export class EngagementModule {}
