import { Body, Controller, Get, HttpCode, Param, Post, UseFilters } from '@nestjs/common';
import { Experiments } from '@herald/engagement';
import type { TenantPrincipal } from '@herald/tenants';
import type { z } from 'zod';
import { TenantKey } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { IdPipe, notFound, ZodPipe } from '../http/validation.pipes';
import { campaignIdParams } from './campaigns.schemas';
import { CampaignErrorsFilter } from './engine-http';
import { EXAMPLE_EXPERIMENT, experimentStepParams, experimentView, promoteBody } from './experiments.schemas';

/** A step's index in the path: anything but a small whole number names no step (404, like an unknown id). */
function stepIndex(value: string): number {
  if (!/^\d{1,2}$/.test(value)) throw notFound('step', value);
  return Number(value);
}

@Controller('v1/campaigns')
@UseFilters(CampaignErrorsFilter)
export class ExperimentsController {
  constructor(private readonly experiments: Experiments) {}

  @Get(':id/experiments')
  @ApiRoute({
    id: 'experiments.list',
    tag: 'campaigns',
    access: 'read',
    summary: 'A campaign’s A/B/n experiments',
    description: [
      'Each step with variants: per variant its sends and the sends that drew a reply, a human click or a conversion, the rate on the step’s metric, and the leader’s two-proportion z-test against it (z, two-sided p).',
      'A `winner` is called once every variant has `min_sample` sends and the leader beats each other variant at p < (1 − confidence) / (variants − 1); it stays called. `promoted` is the variant every later delivery of the step gets (by beat with `auto_promote`, or by hand).',
    ].join(' '),
    params: campaignIdParams,
    success: {
      status: 200,
      description: 'The experiments, by step.',
      schema: 'ExperimentList',
      example: { data: [EXAMPLE_EXPERIMENT] },
    },
  })
  async list(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('campaign')) id: string) {
    const results = await this.experiments.results(principal.tenantId, id);
    if (!results) throw notFound('campaign', id);
    return { data: results.map(experimentView) };
  }

  @Post(':id/experiments/:step/promote')
  @HttpCode(200)
  @ApiRoute({
    id: 'experiments.promote',
    tag: 'campaigns',
    access: 'write',
    summary: 'Promote a variant of a step',
    description:
      'Every later delivery of the step gets `variant` (over any earlier promotion); deliveries already sent keep theirs. 400 naming `step` when the step has no variants, `variant` when it has no such variant. Repeating it changes nothing.',
    params: experimentStepParams,
    body: { schema: promoteBody, example: { variant: 'B' } },
    success: {
      status: 200,
      description: 'The step’s experiment.',
      schema: 'Experiment',
      example: EXAMPLE_EXPERIMENT,
    },
  })
  async promote(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('campaign')) id: string,
    @Param('step') step: string,
    @Body(new ZodPipe(promoteBody, 'body')) body: z.output<typeof promoteBody>,
  ) {
    const result = await this.experiments.promote(principal.tenantId, id, stepIndex(step), body.variant);
    if (!result) throw notFound('campaign', id);
    return experimentView(result);
  }
}
