import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { ChannelsModule, OutboundGuard } from '@herald/channels';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { ContactsModule, ContactsRepository } from '@herald/contacts';
import { PersistenceModule } from '@herald/persistence';
import { QueuesModule, REDIS, RedisKeys, type RedisClient } from '@herald/queues';
import { RateLimitModule } from '@herald/rate-limit';
import { ResilienceModule } from '@herald/resilience';
import { EnrollmentsRepository, SequencesModule } from '@herald/sequences';
import type { DataSource } from 'typeorm';
import { DomainPacer } from './assessment/domain-pacer';
import { SiteAssessor } from './assessment/site-assessor';
import { SourceAccountsRepository } from '../accounts/source-accounts.repository';
import { SourceQuota } from '../accounts/source-quota';
import { SourcingModule } from '../sourcing.module';
import { Enricher } from './enrichment/enricher';
import { FetchSlots } from './fetch-slots';
import { HandOff } from './handoff/hand-off';
import { QualifyMetrics } from './qualify-metrics';
import { Qualifier } from './qualifier';
import { ScoringModelsRepository } from './scoring/scoring-models.repository';

/** A guard of its own for the fake web and real sites alike: the same switches as the channels'. */
const QUALIFY_GUARD = Symbol('QUALIFY_GUARD');

/**
 * Qualifying leads: website assessment, enrichment, scoring models and the hand-off, wired for
 * the api (scoring models, rescore, approve, reject) and the worker (`sourcing.qualify`).
 */
@Module({
  imports: [
    PersistenceModule,
    QueuesModule,
    ChannelsModule,
    RateLimitModule,
    ResilienceModule,
    ContactsModule,
    SequencesModule,
    SourcingModule,
  ],
  providers: [
    QualifyMetrics,
    {
      provide: QUALIFY_GUARD,
      inject: [HERALD_CONFIG],
      useFactory: (config: HeraldConfig) =>
        new OutboundGuard({
          allowPrivateNetworks: config.delivery.allowPrivateNetworks,
          hostOverrides: config.delivery.hostOverrides,
        }),
    },
    {
      provide: FetchSlots,
      inject: [HERALD_CONFIG],
      useFactory: (config: HeraldConfig) => new FetchSlots(config.qualify.fetchConcurrency),
    },
    {
      provide: SiteAssessor,
      inject: [
        HERALD_CONFIG,
        QUALIFY_GUARD,
        REDIS,
        RedisKeys,
        getDataSourceToken(),
        QualifyMetrics,
        FetchSlots,
      ],
      useFactory: (
        config: HeraldConfig,
        guard: OutboundGuard,
        redis: RedisClient,
        keys: RedisKeys,
        dataSource: DataSource,
        metrics: QualifyMetrics,
        slots: FetchSlots,
      ) =>
        new SiteAssessor({
          guard,
          pacer: new DomainPacer(redis, keys),
          slots,
          dataSource,
          metrics,
          limits: {
            timeoutMs: config.qualify.assessmentTimeoutMs,
            maxBytes: config.qualify.assessmentMaxBytes,
            maxRedirects: config.qualify.assessmentMaxRedirects,
            userAgent: `HeraldBot/${config.app.version} (+lead assessment)`,
          },
          cacheTtlSeconds: config.qualify.assessmentCacheTtlSeconds,
        }),
    },
    {
      provide: Enricher,
      inject: [
        HERALD_CONFIG,
        QUALIFY_GUARD,
        getDataSourceToken(),
        SourceAccountsRepository,
        SourceQuota,
        QualifyMetrics,
        FetchSlots,
      ],
      useFactory: (
        config: HeraldConfig,
        guard: OutboundGuard,
        dataSource: DataSource,
        accounts: SourceAccountsRepository,
        quota: SourceQuota,
        metrics: QualifyMetrics,
        slots: FetchSlots,
      ) =>
        new Enricher({
          dataSource,
          accounts,
          quota,
          guard,
          slots,
          metrics,
          cacheTtlSeconds: config.qualify.enrichmentCacheTtlSeconds,
          timeoutMs: config.qualify.enrichmentTimeoutMs,
          userAgent: `Herald/${config.app.version} (+enrichment)`,
        }),
    },
    {
      provide: ScoringModelsRepository,
      inject: [getDataSourceToken()],
      useFactory: (dataSource: DataSource) => new ScoringModelsRepository(dataSource),
    },
    {
      provide: HandOff,
      inject: [ContactsRepository, EnrollmentsRepository, QualifyMetrics],
      useFactory: (
        contacts: ContactsRepository,
        enrollments: EnrollmentsRepository,
        metrics: QualifyMetrics,
      ) => new HandOff(contacts, enrollments, metrics),
    },
    {
      provide: Qualifier,
      inject: [
        getDataSourceToken(),
        SiteAssessor,
        Enricher,
        ScoringModelsRepository,
        HandOff,
        QualifyMetrics,
      ],
      useFactory: (
        dataSource: DataSource,
        assessor: SiteAssessor,
        enricher: Enricher,
        models: ScoringModelsRepository,
        handOff: HandOff,
        metrics: QualifyMetrics,
      ) => new Qualifier(dataSource, assessor, enricher, models, handOff, metrics),
    },
  ],
  exports: [Qualifier, ScoringModelsRepository, SiteAssessor, Enricher],
})
export class QualifyModule {}
