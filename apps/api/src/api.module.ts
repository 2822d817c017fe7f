import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CampaignsModule } from '@herald/campaigns';
import { ContactsModule } from '@herald/contacts';
import { DeliveriesModule } from '@herald/deliveries';
import { EngagementModule, ExperimentsModule, ReportsModule } from '@herald/engagement';
import { ProviderEventsModule } from '@herald/provider-events';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule } from '@herald/queues';
import { RateLimitModule } from '@herald/rate-limit';
import { ResilienceModule } from '@herald/resilience';
import { SequencesModule } from '@herald/sequences';
import { SourcingModule } from '@herald/sourcing';
import { QualifyModule } from '@herald/sourcing';
import { TelemetryModule } from '@herald/telemetry';
import { TenantsModule } from '@herald/tenants';
import { TimeModule } from '@herald/time';
import { AnalyticsController } from './analytics/analytics.controller';
import { AnalyticsScope } from './analytics/analytics-scope';
import { EngagementEventsController } from './analytics/engagement-events.controller';
import { ContactTimelineController } from './contacts/contact-timeline.controller';
import { ContactTimelineRepository } from './contacts/contact-timeline.repository';
import { ContactsController } from './contacts/contacts.controller';
import { InteractionsController } from './contacts/interactions.controller';
import { SuppressionsController } from './contacts/suppressions.controller';
import { DeliveriesController } from './engine/deliveries.controller';
import { AdminController } from './engine/admin.controller';
import { CircuitOwners } from './engine/circuit-owners';
import { BullBoardMount } from './engine/bull-board';
import { CampaignsController } from './engine/campaigns.controller';
import { EnrollmentsController } from './engine/enrollments.controller';
import { EventsController } from './engine/events.controller';
import { ExperimentsController } from './engine/experiments.controller';
import { FleetController } from './engine/fleet.controller';
import { RunDeliveriesController } from './engine/run-deliveries.controller';
import { RunListController } from './engine/run-list.controller';
import { RunsController } from './engine/runs.controller';
import { SenderAccountCircuitController } from './engine/sender-account-circuit.controller';
import { SenderAccountsController } from './engine/sender-accounts.controller';
import { AccessGuard } from './http/access';
import { AuthThrottle } from './http/auth-throttle';
import { AuthenticationMiddleware } from './http/authentication.middleware';
import { IdempotencyService } from './http/idempotency.service';
import { ImportConcurrency } from './http/import-concurrency';
import { JsonBodyMiddleware } from './http/json-body.middleware';
import { ProblemFilter } from './http/problem.filter';
import { RateLimitMiddleware } from './http/rate-limit.middleware';
import { ProviderEventsController } from './provider-events/provider-events.controller';
import { ProviderWebhooksController } from './provider-events/provider-webhooks.controller';
import { RouteTable } from './http/route-table';
import { CampaignPreviewController } from './mail/campaign-preview.controller';
import { EmailLayoutController } from './mail/email-layout.controller';
import { EmailLayoutRepository } from './mail/email-layout.repository';
import { MailLinksRepository } from './mail/mail-links.repository';
import { PublicMailController } from './mail/public-mail.controller';
import { PublicWork } from './mail/public-work';
import { TrackingService } from './mail/tracking.service';
import { UnsubscribeService } from './mail/unsubscribe.service';
import { KeySignIn } from './sessions/key-sign-in';
import { SessionAuthentication } from './sessions/session-authentication';
import { SessionsController } from './sessions/sessions.controller';
import { SessionsRepository } from './sessions/sessions.repository';
import { SessionsService } from './sessions/sessions.service';
import { SignInLinkController } from './sessions/sign-in-link.controller';
import { SourceAccountCircuitController } from './sourcing/source-account-circuit.controller';
import { SourceAccountsController } from './sourcing/source-accounts.controller';
import { SourcingJobsController } from './sourcing/sourcing-jobs.controller';
import { SourcingRunsController } from './sourcing/sourcing-runs.controller';
import { ReportsController } from './reports/reports.controller';
import { InternalController } from './system/internal.controller';
import { RunQualifyController } from './sourcing/qualify/run-qualify.controller';
import { ScoringModelsController } from './sourcing/qualify/scoring-models.controller';
import { SystemController } from './system/system.controller';
import { ApiKeysController } from './tenants/api-keys.controller';
import { TenantsController } from './tenants/tenants.controller';

/** The api's transport: controllers, guards and the error shape (and Bull Board at /admin/queues). */
@Module({
  imports: [
    TelemetryModule,
    PersistenceModule,
    QueuesModule,
    RateLimitModule,
    ResilienceModule,
    TenantsModule,
    ContactsModule,
    DeliveriesModule,
    CampaignsModule,
    SequencesModule,
    EngagementModule,
    TimeModule,
    ProviderEventsModule,
    SourcingModule,
    QualifyModule,
    ExperimentsModule,
    ReportsModule,
  ],
  controllers: [
    SystemController,
    InternalController,
    TenantsController,
    ApiKeysController,
    ContactsController,
    InteractionsController,
    SuppressionsController,
    SenderAccountsController,
    CampaignsController,
    ExperimentsController,
    ReportsController,
    RunListController,
    RunDeliveriesController,
    RunsController,
    EnrollmentsController,
    EventsController,
    AdminController,
    DeliveriesController,
    SessionsController,
    SignInLinkController,
    ContactTimelineController,
    FleetController,
    SenderAccountCircuitController,
    CampaignPreviewController,
    EmailLayoutController,
    PublicMailController,
    ProviderEventsController,
    ProviderWebhooksController,
    AnalyticsController,
    EngagementEventsController,
    SourceAccountsController,
    SourceAccountCircuitController,
    SourcingJobsController,
    SourcingRunsController,
    ScoringModelsController,
    RunQualifyController,
  ],
  providers: [
    AuthThrottle,
    BullBoardMount,
    IdempotencyService,
    ImportConcurrency,
    RouteTable,
    ContactTimelineRepository,
    AnalyticsScope,
    CircuitOwners,
    KeySignIn,
    SessionAuthentication,
    SessionsRepository,
    SessionsService,
    EmailLayoutRepository,
    MailLinksRepository,
    TrackingService,
    PublicWork,
    UnsubscribeService,
    { provide: APP_FILTER, useClass: ProblemFilter },
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
})
export class ApiModule implements NestModule {
  /** Every /v1 request: who is calling (401), how fast (429), then its JSON body (415/413/400). */
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(AuthenticationMiddleware, RateLimitMiddleware, JsonBodyMiddleware)
      .forRoutes({ path: 'v1', method: RequestMethod.ALL }, { path: 'v1/*path', method: RequestMethod.ALL });
  }
}
