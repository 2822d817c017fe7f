export { EnrollmentTicker } from './enrollment-ticker';
export { SequencesModule } from './sequences.module';
