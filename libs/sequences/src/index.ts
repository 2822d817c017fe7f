export { EnrollmentTicker } from './enrollment-ticker';
export {
  cancelEnrollmentDeliveries,
  EnrollmentsRepository,
  type EnrollmentRecord,
  type EnrollResult,
  type RemoveOutcome,
} from './enrollments.repository';
export { UnknownCampaignError } from './errors';
export { EventsService, type EventOutcome } from './events.service';
export {
  ENROLLMENT_STATUSES,
  enrollmentRequestSchema,
  SEQUENCE_EVENT_TYPES,
  SEQUENCE_LIMITS,
  sequenceEventSchema,
  type EnrollmentRequest,
  type EnrollmentStatus,
  type EventTarget,
  type SequenceEvent,
  type SequenceEventType,
} from './sequence-fields';
export { SequencesModule } from './sequences.module';
