import { Module } from '@nestjs/common';
import { ContactsModule } from '@herald/contacts';
import { EngagementModule } from '@herald/engagement';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { TelemetryModule } from '@herald/telemetry';
import { TimeModule } from '@herald/time';
import { EnrollmentTicker } from './enrollment-ticker';
import { EnrollmentsRepository } from './enrollments.repository';
import { EventsService } from './events.service';

/**
 * Sequences: enrollments, their ticker, and the events (reply, bounce, unsubscribe) that stop
 * them. Sending a step is the delivery pipeline's work; moving on after it is the ledger
 * trigger's (migration Sequences).
 */
@Module({
  imports: [ContactsModule, EngagementModule, PersistenceModule, QueuesModule, TelemetryModule, TimeModule],
  providers: [EnrollmentsRepository, EnrollmentTicker, EventsService],
  exports: [EnrollmentsRepository, EnrollmentTicker, EventsService],
})
export class SequencesModule {}
