import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ScoringModelsRepository } from '@herald/sourcing';
import type { TenantPrincipal } from '@herald/tenants';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { IndexedZodPipe } from '../../engine/engine-http';
import { TenantKey } from '../../http/access';
import { IdempotencyService } from '../../http/idempotency.service';
import { ApiRoute } from '../../http/openapi';
import { found, listAnswer } from '../../http/resource-answers';
import { IdPipe, notFound, ZodPipe } from '../../http/validation.pipes';
import { pageQuery } from '../../tenants/tenants.schemas';
import {
  createScoringModelBody,
  EXAMPLE_MODEL,
  EXAMPLE_RULES,
  EXAMPLE_TIERS,
  EXAMPLE_VERSION,
  modelSummaryView,
  modelView,
  scoringModelIdParams,
  scoringVersionBody,
  scoringVersionParams,
  versionView,
  type CreateScoringModelBody,
} from './scoring-models.schemas';

const RULES_DOC =
  'Rules are validated: an unknown `op`, a range without bounds or with min above max, a field that is not a dotted path, points that are not whole numbers, or tiers out of order (A ≥ B ≥ C) are a 400 naming the field (`rules[2].min`).';

@Controller('v1/scoring-models')
export class ScoringModelsController {
  constructor(
    private readonly models: ScoringModelsRepository,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiRoute({
    id: 'scoringModels.create',
    tag: 'scoring-models',
    access: 'write',
    summary: 'Create a scoring model',
    description: `A model with its first version: weighted rules over a candidate's fields and facts, and tier thresholds. ${RULES_DOC}`,
    body: {
      schema: createScoringModelBody,
      example: { name: 'Local trades', rules: EXAMPLE_RULES, tiers: EXAMPLE_TIERS },
    },
    idempotent: true,
    success: {
      status: 201,
      description: 'The model, at version 1.',
      schema: 'ScoringModel',
      example: EXAMPLE_MODEL,
    },
  })
  create(
    @TenantKey() principal: TenantPrincipal,
    @Body(new IndexedZodPipe(createScoringModelBody, 'body')) body: CreateScoringModelBody,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => {
      const { model, version } = await this.models.create(manager, principal.tenantId, body.name, body);
      return { status: 201, body: modelView(model, version) };
    });
  }

  @Get()
  @ApiRoute({
    id: 'scoringModels.list',
    tag: 'scoring-models',
    access: 'read',
    summary: 'List scoring models',
    description: 'Oldest first, in keyset pages.',
    query: pageQuery,
    success: {
      status: 200,
      description: 'A page of models.',
      schema: 'ScoringModelList',
      example: { data: [{ ...EXAMPLE_MODEL, current: undefined }], next_cursor: null },
    },
  })
  async list(
    @TenantKey() principal: TenantPrincipal,
    @Query(new ZodPipe(pageQuery, 'query')) query: z.output<typeof pageQuery>,
  ) {
    return listAnswer(
      query,
      (after, limit) => this.models.list(principal.tenantId, after, limit),
      modelSummaryView,
    );
  }

  @Get(':id')
  @ApiRoute({
    id: 'scoringModels.get',
    tag: 'scoring-models',
    access: 'read',
    summary: 'Get a scoring model',
    description: 'The model with its current version.',
    params: scoringModelIdParams,
    success: { status: 200, description: 'The model.', schema: 'ScoringModel', example: EXAMPLE_MODEL },
  })
  async get(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('scoring model')) id: string) {
    const model = found(await this.models.find(principal.tenantId, id), 'scoring model', id);
    const current = await this.models.version(principal.tenantId, id, model.currentVersion);
    return modelView(model, current!);
  }

  @Post(':id/versions')
  @ApiRoute({
    id: 'scoringModels.addVersion',
    tag: 'scoring-models',
    access: 'write',
    summary: 'Add a version to a scoring model',
    description: `The next version becomes current: runs started from now score with it; earlier runs keep the version they recorded until rescored (POST /v1/sourcing-runs/{id}/rescore). A version never changes once written. ${RULES_DOC}`,
    params: scoringModelIdParams,
    body: { schema: scoringVersionBody, example: { rules: EXAMPLE_RULES, tiers: EXAMPLE_TIERS } },
    idempotent: true,
    success: {
      status: 201,
      description: 'The new version.',
      schema: 'ScoringModelVersion',
      example: { ...EXAMPLE_VERSION, version: 2 },
    },
  })
  addVersion(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('scoring model')) id: string,
    @Body(new IndexedZodPipe(scoringVersionBody, 'body')) body: z.output<typeof scoringVersionBody>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.idempotency.run(req, res, principal.tenantId, async (manager) => {
      const added = await this.models.addVersion(manager, principal.tenantId, id, body);
      if (!added) throw notFound('scoring model', id);
      return { status: 201, body: versionView(added.version) };
    });
  }

  @Get(':id/versions/:version')
  @ApiRoute({
    id: 'scoringModels.getVersion',
    tag: 'scoring-models',
    access: 'read',
    summary: 'Get a version of a scoring model',
    description: 'Its rules and tier thresholds, as a run that recorded it scored with them.',
    params: scoringVersionParams,
    success: {
      status: 200,
      description: 'The version.',
      schema: 'ScoringModelVersion',
      example: EXAMPLE_VERSION,
    },
  })
  async getVersion(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('scoring model')) id: string,
    @Param('version') version: string,
  ) {
    const stored = /^\d{1,9}$/.test(version)
      ? await this.models.version(principal.tenantId, id, Number(version))
      : undefined;
    if (!stored) throw notFound('scoring model version', `${id}/${version}`);
    return versionView(stored);
  }
}
