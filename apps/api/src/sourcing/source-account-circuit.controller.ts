import { Controller, Get, Param } from '@nestjs/common';
import { CircuitBreaker } from '@herald/resilience';
import { SourceAccountsRepository, sourceCircuitKey } from '@herald/sourcing';
import type { TenantPrincipal } from '@herald/tenants';
import { withRedis } from '../engine/engine-http';
import { TenantKey } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { IdPipe, notFound } from '../http/validation.pipes';
import { EXAMPLE_SOURCE_CIRCUIT, sourceCircuitView } from './source-account-circuit.schemas';
import { sourceAccountIdParams } from './source-accounts.schemas';

/**
 * One source account's fleet-wide breaker (`<kind>:<id>`), for anyone who may read the account
 * (the console's Leads page shows it beside the quota gauges), as sender accounts have theirs.
 */
@Controller('v1/source-accounts/:id/circuit')
export class SourceAccountCircuitController {
  constructor(
    private readonly accounts: SourceAccountsRepository,
    private readonly breaker: CircuitBreaker,
  ) {}

  @Get()
  @ApiRoute({
    id: 'sourceAccounts.circuit',
    tag: 'source-accounts',
    access: 'read',
    summary: 'Circuit state of a source account',
    description:
      'closed (searching, visiting or looking up), open (paused after repeated timeouts, connection failures, 5xx or 429 answers, or forced, until `open_until`) or half-open (trying again). An account with no record is closed. 503 while Redis is unreachable.',
    params: sourceAccountIdParams,
    success: {
      status: 200,
      description: 'The circuit.',
      schema: 'SourceAccountCircuit',
      example: EXAMPLE_SOURCE_CIRCUIT,
    },
    problems: ['unavailable'],
  })
  async get(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('source account')) id: string) {
    const account = await this.accounts.find(principal.tenantId, id);
    if (!account) throw notFound('source account', id);
    return sourceCircuitView(await withRedis(() => this.breaker.get(sourceCircuitKey(account))));
  }
}
