import { Module } from '@nestjs/common';
import { DeliveriesModule } from '@herald/deliveries';
import { EnrollmentTicker } from './enrollment-ticker';

/** Sequences: enrollments, their ticker, and the events (reply, bounce, unsubscribe) that stop them. */
@Module({
  imports: [DeliveriesModule],
  providers: [EnrollmentTicker],
  exports: [EnrollmentTicker],
})
export class SequencesModule {}
