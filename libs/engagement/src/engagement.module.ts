import { Module } from '@nestjs/common';
import { PersistenceModule } from '@herald/persistence';
import { AnalyticsReader } from './analytics/analytics-reader';
import { EngagementMetrics } from './analytics/engagement-metrics';
import { RollupFolder } from './analytics/rollup-folder';
import { RollupRebuilder } from './analytics/rollup-rebuilder';
import { EngagementRecorder } from './engagement-recorder';

/** Engagement: what happened after a send, recorded once per source event, and what is derived from it. */
@Module({
  imports: [PersistenceModule],
  providers: [EngagementRecorder, AnalyticsReader, EngagementMetrics, RollupFolder, RollupRebuilder],
  exports: [EngagementRecorder, AnalyticsReader, RollupFolder, RollupRebuilder],
})
export class EngagementModule {}
