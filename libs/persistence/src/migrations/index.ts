import { Foundation1763820000000 } from './1763820000000-Foundation';
import { TenantsAndContacts1763830000000 } from './1763830000000-TenantsAndContacts';
import { QuotaFallback1763840000000 } from './1763840000000-QuotaFallback';
import { DeliveryEngine1763850000000 } from './1763850000000-DeliveryEngine';
import { Sequences1763860000000 } from './1763860000000-Sequences';
import { Schedules1763870000000 } from './1763870000000-Schedules';
import { RunProgress1763880000000 } from './1763880000000-RunProgress';
import { ContactImportStaging1763890000000 } from './1763890000000-ContactImportStaging';
import { DeliveryOutcomes1763900000000 } from './1763900000000-DeliveryOutcomes';
import { ConsoleSessions1763915000000 } from './1763915000000-ConsoleSessions';
import { TenantDeliveryWeight1763920000000 } from './1763920000000-TenantDeliveryWeight';
import { Engagement1763930000000 } from './1763930000000-Engagement';
import { Mail1763931000000 } from './1763931000000-Mail';
import { ProviderEvents1763932000000 } from './1763932000000-ProviderEvents';
import { AnalyticsRollups1763933000000 } from './1763933000000-AnalyticsRollups';
import { Experiments1763934000000 } from './1763934000000-Experiments';
import { Sourcing1763940000000 } from './1763940000000-Sourcing';
import { SourcingDedupe1763941000000 } from './1763941000000-SourcingDedupe';
import { Qualify1763942000000 } from './1763942000000-Qualify';
import { AnalyticsSourcing1763943300000 } from './1763943300000-AnalyticsSourcing';
import { WeeklyReportLease1763944000000 } from './1763944000000-WeeklyReportLease';
import { ExperimentRestart1763945000000 } from './1763945000000-ExperimentRestart';
import { SourcingRunJobKey1763946000000 } from './1763946000000-SourcingRunJobKey';
import { CandidateQualifyJob1763948000000 } from './1763948000000-CandidateQualifyJob';
import { CandidatesOpen1763949000000 } from './1763949000000-CandidatesOpen';

/** Migrations in order. Generated ones are added here; a landed migration is never edited. */
export const MIGRATIONS = [
  Foundation1763820000000,
  TenantsAndContacts1763830000000,
  QuotaFallback1763840000000,
  DeliveryEngine1763850000000,
  Sequences1763860000000,
  Schedules1763870000000,
  RunProgress1763880000000,
  ContactImportStaging1763890000000,
  DeliveryOutcomes1763900000000,
  ConsoleSessions1763915000000,
  TenantDeliveryWeight1763920000000,
  Engagement1763930000000,
  Mail1763931000000,
  ProviderEvents1763932000000,
  AnalyticsRollups1763933000000,
  Experiments1763934000000,
  Sourcing1763940000000,
  SourcingDedupe1763941000000,
  Qualify1763942000000,
  AnalyticsSourcing1763943300000,
  WeeklyReportLease1763944000000,
  ExperimentRestart1763945000000,
  SourcingRunJobKey1763946000000,
  CandidateQualifyJob1763948000000,
  CandidatesOpen1763949000000,
];
