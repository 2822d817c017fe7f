import { Body, Controller, HttpCode, Param, Post, UseFilters } from '@nestjs/common';
import { Qualifier, SourcingRequalify } from '@herald/sourcing';
import type { TenantPrincipal } from '@herald/tenants';
import type { z } from 'zod';
import { IndexedZodPipe } from '../../engine/engine-http';
import { TenantKey } from '../../http/access';
import { ApiRoute } from '../../http/openapi';
import { ProblemException } from '../../http/problem';
import { IdPipe, notFound } from '../../http/validation.pipes';
import { SourcingErrorsFilter } from '../sourcing-http';
import {
  approveBody,
  rejectBody,
  requalifyBody,
  rescoreBody,
  sourcingRunIdParams,
} from './run-qualify.schemas';

const EXAMPLE_IDS = ['0190f5e4-3333-7c3d-8e4f-5a6b7c8d9e0f'];

/**
 * A sourcing run's qualify side: rescoring, a person's approve or reject of its candidates, and
 * requalifying the ones the beat closed as not qualified.
 */
@Controller('v1/sourcing-runs')
export class RunQualifyController {
  constructor(
    private readonly qualifier: Qualifier,
    private readonly requalifier: SourcingRequalify,
  ) {}

  @Post(':id/rescore')
  @HttpCode(200)
  @ApiRoute({
    id: 'sourcingRuns.rescore',
    tag: 'sourcing-runs',
    access: 'write',
    summary: "Re-score a run's candidates",
    description:
      'Scores the run’s scored and handed-off candidates again with a version of its scoring model (default: the current one) from the facts already stored: nothing is fetched again. Score, tier and explanation change; hand-offs already made stay made; the run records the version.',
    params: sourcingRunIdParams,
    body: { schema: rescoreBody, example: { version: 2 } },
    success: {
      status: 200,
      description: 'How many candidates were re-scored, with which version.',
      schema: 'RescoreResult',
      example: { run_id: '0190f5e4-4444-7c3d-8e4f-5a6b7c8d9e0f', version: 2, rescored: 480 },
    },
  })
  async rescore(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('sourcing run')) id: string,
    @Body(new IndexedZodPipe(rescoreBody, 'body')) body: z.output<typeof rescoreBody>,
  ) {
    const result = await this.qualifier.rescore(principal.tenantId, id, body.version);
    if (!result) throw notFound('sourcing run', id);
    if (result.missing)
      throw ProblemException.of('validation-failed', 'The request body is invalid.', [
        { field: 'version', message: `the run's scoring model has no version ${result.version}` },
      ]);
    return { run_id: id, version: result.version, rescored: result.rescored };
  }

  @Post(':id/candidates/approve')
  @HttpCode(200)
  @ApiRoute({
    id: 'sourcingRuns.approveCandidates',
    tag: 'sourcing-runs',
    access: 'write',
    summary: 'Approve held candidates',
    description:
      'Hands off each held candidate (scored, waiting for review) with its tier’s hand-off, or the one given: a contact is created or updated (tagged with tier, score and source) and, for `enroll`, enrolled into the sequence campaign — exactly once, whatever is repeated. Candidates not held are listed as skipped.',
    params: sourcingRunIdParams,
    body: { schema: approveBody, example: { candidate_ids: EXAMPLE_IDS } },
    success: {
      status: 200,
      description: 'What was handed off and what was skipped.',
      schema: 'CandidateDecisions',
      example: {
        done: [
          {
            id: EXAMPLE_IDS[0],
            stage: 'handed_off',
            contact_id: '0190f5e4-6a2b-7c3d-8e4f-5a6b7c8d9e0f',
            enrollment_id: null,
          },
        ],
        skipped: [],
      },
    },
  })
  async approve(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('sourcing run')) id: string,
    @Body(new IndexedZodPipe(approveBody, 'body')) body: z.output<typeof approveBody>,
  ) {
    await this.requireRun(principal.tenantId, id);
    const results = await this.qualifier.approve(principal.tenantId, id, body.candidate_ids, body.handoff);
    return {
      done: results.flatMap(({ id: candidateId, result }) =>
        result.done && result.stage !== 'held'
          ? [
              {
                id: candidateId,
                stage: result.stage,
                contact_id: result.contactId,
                enrollment_id: result.enrollmentId,
              },
            ]
          : [],
      ),
      skipped: results.flatMap(({ id: candidateId, result }) =>
        result.done ? [] : [{ id: candidateId, reason: result.why }],
      ),
    };
  }

  @Post(':id/candidates/reject')
  @HttpCode(200)
  @ApiRoute({
    id: 'sourcingRuns.rejectCandidates',
    tag: 'sourcing-runs',
    access: 'write',
    summary: 'Reject candidates',
    description:
      'Rejects each candidate not yet handed off (held, or still being qualified: its next step finds it rejected and stops). Handed-off, duplicate or already rejected candidates are listed as skipped.',
    params: sourcingRunIdParams,
    body: { schema: rejectBody, example: { candidate_ids: EXAMPLE_IDS, reason: 'not our market' } },
    success: {
      status: 200,
      description: 'What was rejected and what was skipped.',
      schema: 'CandidateDecisions',
      example: {
        done: [{ id: EXAMPLE_IDS[0], stage: 'rejected', contact_id: null, enrollment_id: null }],
        skipped: [],
      },
    },
  })
  async reject(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('sourcing run')) id: string,
    @Body(new IndexedZodPipe(rejectBody, 'body')) body: z.output<typeof rejectBody>,
  ) {
    await this.requireRun(principal.tenantId, id);
    const rejected = await this.qualifier.reject(
      principal.tenantId,
      id,
      body.candidate_ids,
      body.reason ?? 'rejected_by_user',
    );
    return {
      done: body.candidate_ids
        .filter((c) => rejected.has(c))
        .map((c) => ({ id: c, stage: 'rejected' as const, contact_id: null, enrollment_id: null })),
      skipped: body.candidate_ids
        .filter((c) => !rejected.has(c))
        .map((c) => ({ id: c, reason: 'not_rejectable' })),
    };
  }

  @Post(':id/candidates/requalify')
  @HttpCode(202)
  @UseFilters(SourcingErrorsFilter)
  @ApiRoute({
    id: 'sourcingRuns.requalifyCandidates',
    tag: 'sourcing-runs',
    access: 'write',
    summary: 'Requalify candidates closed as not qualified',
    description:
      'Puts candidates the beat closed as not qualified (their qualify job kept failing or was lost; `reason` starts with "not qualified:") back to qualifying: each at the stage its stored facts show it reached, so nothing already fetched is fetched again, and handed off once qualified. Without `candidate_ids`, every such candidate of the run. A completed run is running again until they are done. Candidates rejected otherwise (by a person, by their tier) and candidates not rejected are listed as skipped; doing it twice requalifies each once. A cancelled, failed or dry run is a 409, as is a completed run while another run of its job is active.',
    params: sourcingRunIdParams,
    body: { schema: requalifyBody, example: { candidate_ids: EXAMPLE_IDS } },
    success: {
      status: 202,
      description: 'What was put back to qualifying, what was skipped and why, and the run’s status after.',
      schema: 'RequalifyResult',
      example: {
        run_id: '0190f5e4-4444-7c3d-8e4f-5a6b7c8d9e0f',
        status: 'running',
        requalified: [{ id: EXAMPLE_IDS[0], stage: 'enriched' }],
        skipped: [],
      },
    },
    problems: ['conflict', 'unavailable'],
  })
  async requalify(
    @TenantKey() principal: TenantPrincipal,
    @Param('id', new IdPipe('sourcing run')) id: string,
    @Body(new IndexedZodPipe(requalifyBody, 'body')) body: z.output<typeof requalifyBody>,
  ) {
    const result = await this.requalifier.requalify(principal.tenantId, id, body.candidate_ids);
    if (!result) throw notFound('sourcing run', id);
    return { run_id: id, status: result.status, requalified: result.requalified, skipped: result.skipped };
  }

  private async requireRun(tenantId: string, runId: string): Promise<void> {
    if (!(await this.qualifier.runExists(tenantId, runId))) throw notFound('sourcing run', runId);
  }
}
