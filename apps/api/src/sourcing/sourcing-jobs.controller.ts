import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import { uuidv7 } from '@herald/contacts';
import {
  sourcingJobCreateSchema,
  sourcingJobPatchSchema,
  SourcingJobsRepository,
  SourcingRunLifecycle,
  type SourcingJobCreateInput,
  type SourcingJobPatchInput,
} from '@herald/sourcing';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { IdempotencyService } from '../http/idempotency.service';
import { ApiRoute } from '../http/openapi';
import { found, listAnswer } from '../http/resource-answers';
import { IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import { IndexedZodPipe } from '../engine/engine-http';
import { SourcingErrorsFilter } from './sourcing-http';
import {
  EXAMPLE_SOURCING_JOB,
  EXAMPLE_SOURCING_RUN,
  idParams,
  jobListQuery,
  sourcingJobView,
  sourcingRunView,
  startSourcingRunBody,
} from './sourcing.schemas';

@Controller('v1/sourcing-jobs')
@UseFilters(SourcingErrorsFilter)
export class SourcingJobsController {
  constructor(
    private readonly jobs: SourcingJobsRepository,
    private readonly runs: SourcingRunLifecycle,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiRoute({
    id: 'sourcingJobs.create',
    tag: 'sourcing',
    access: 'write',
    summary: 'Create a sourcing job',
    description: [
      'What to search (`source_account_id` and its connector’s `criteria`), how many candidates a run may find (`limit`), when it runs by itself (`schedule`, daily at a local time as campaign schedules, in the tenant’s zone by default), which scoring model scores its candidates, and per tier what hand-off does (`contact`, `enroll` into a sequence campaign, or `hold` for review).',
      'Criteria are checked against the account’s connector: `http-directory` takes flat filters sent as query parameters; `profile-visit` takes `profile_urls`; `csv` takes the list as `csv` (header line first). Errors name `criteria.<field>`; an unknown account, model or campaign names its field too.',
    ].join(' '),
    body: {
      schema: sourcingJobCreateSchema,
      example: {
        name: EXAMPLE_SOURCING_JOB.name,
        source_account_id: EXAMPLE_SOURCING_JOB.source_account_id,
        criteria: EXAMPLE_SOURCING_JOB.criteria,
        limit: 500,
        scoring_model_id: EXAMPLE_SOURCING_JOB.scoring_model_id,
        handoff: EXAMPLE_SOURCING_JOB.handoff,
      },
    },
    idempotent: true,
    success: { status: 201, description: 'The job.', schema: 'SourcingJob', example: EXAMPLE_SOURCING_JOB },
  })
  create(
    @TenantKey() principal: TenantPrincipal,
    @Body(new IndexedZodPipe(sourcingJobCreateSchema, 'body')) body: SourcingJobCreateInput,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => {
      const job = await this.jobs.create(manager, principal.tenantId, uuidv7(), body);
      return { status: 201, body: sourcingJobView(job) };
    });
  }

  @Get()
  @ApiRoute({
    id: 'sourcingJobs.list',
    tag: 'sourcing',
    access: 'read',
    summary: 'List sourcing jobs',
    description: 'Oldest first, in keyset pages; `status` filters active or archived jobs.',
    query: jobListQuery,
    success: {
      status: 200,
      description: 'A page of jobs.',
      schema: 'SourcingJobList',
      example: { data: [EXAMPLE_SOURCING_JOB], next_cursor: null },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(jobListQuery, 'query')) query: z.output<typeof jobListQuery>,
  ) {
    return listAnswer(
      query,
      (after, limit) => this.jobs.list(principal.tenantId, after, limit, query.status),
      sourcingJobView,
    );
  }

  @Get(':id')
  @ApiRoute({
    id: 'sourcingJobs.get',
    tag: 'sourcing',
    access: 'read',
    summary: 'Get a sourcing job',
    description: 'One job.',
    params: idParams,
    success: { status: 200, description: 'The job.', schema: 'SourcingJob', example: EXAMPLE_SOURCING_JOB },
  })
  async get(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('sourcing job')) id: string) {
    return sourcingJobView(found(await this.jobs.find(principal.tenantId, id), 'sourcing job', id));
  }

  @Patch(':id')
  @ApiRoute({
    id: 'sourcingJobs.update',
    tag: 'sourcing',
    access: 'write',
    summary: 'Change a sourcing job',
    description:
      'Only the fields given change (`schedule: null` unschedules); checked as on create. Runs already started keep what they started with; the source account never changes.',
    params: idParams,
    body: { schema: sourcingJobPatchSchema, example: { limit: 1000 } },
    success: { status: 200, description: 'The job.', schema: 'SourcingJob', example: EXAMPLE_SOURCING_JOB },
  })
  async update(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('sourcing job')) id: string,
    @Body(new IndexedZodPipe(sourcingJobPatchSchema, 'body')) body: SourcingJobPatchInput,
  ) {
    const job = await this.jobs.dataSourceTransaction((manager) =>
      this.jobs.update(manager, principal.tenantId, id, body),
    );
    return sourcingJobView(found(job, 'sourcing job', id));
  }

  @Post(':id/archive')
  @HttpCode(200)
  @ApiRoute({
    id: 'sourcingJobs.archive',
    tag: 'sourcing',
    access: 'write',
    summary: 'Archive a sourcing job',
    description:
      'The job starts no more runs (its schedule stops); its runs and candidates stay. Archiving twice is fine.',
    params: idParams,
    success: {
      status: 200,
      description: 'The archived job.',
      schema: 'SourcingJob',
      example: { ...EXAMPLE_SOURCING_JOB, status: 'archived' },
    },
  })
  async archive(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('sourcing job')) id: string,
  ) {
    return sourcingJobView(found(await this.jobs.archive(principal.tenantId, id), 'sourcing job', id));
  }

  @Post(':id/runs')
  @HttpCode(202)
  @ApiRoute({
    id: 'sourcingJobs.startRun',
    tag: 'sourcing',
    access: 'write',
    summary: 'Start a run of a sourcing job',
    description: [
      'Accepts the run (202): the run and its job are written in one transaction and relayed to the queue after commit (an unreachable queue loses nothing). One active run per job (409 otherwise); an archived job is a 409. The run records the scoring model’s current version.',
      'A dry run fetches nothing: it completes at once with a `forecast` — the search requests or visits the job’s limit would spend at most, per day as the account’s quota windows allow them, and when the last one may go.',
    ].join(' '),
    params: idParams,
    body: { schema: startSourcingRunBody, example: { dry_run: false } },
    idempotent: true,
    success: { status: 202, description: 'The run.', schema: 'SourcingRun', example: EXAMPLE_SOURCING_RUN },
    problems: ['conflict'],
  })
  async start(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('sourcing job')) id: string,
    @Body(new ZodPipe(startSourcingRunBody, 'body')) body: z.output<typeof startSourcingRunBody>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    const dryRun = body?.dry_run === true;
    const started = await this.idempotency.run(req, res, principal.tenantId, async (manager) => {
      const run = await this.runs.start(manager, principal.tenantId, id, { dryRun });
      if (!run || run === 'duplicate') throw notFound('sourcing job', id);
      return { status: 202, body: sourcingRunView(run) };
    });
    if (!started.dry_run) await this.runs.dispatch(principal.tenantId, started.id);
    return started;
  }
}
