export {
  ENGAGEMENT_KINDS,
  type EngagementEvent,
  type EngagementInput,
  type EngagementKind,
  type RecordOutcome,
} from './engagement-event';
export { EngagementRecorder } from './engagement-recorder';
export { EngagementModule } from './engagement.module';
