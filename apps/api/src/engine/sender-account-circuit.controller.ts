import { Controller, Get, Param } from '@nestjs/common';
import { SenderAccountsRepository } from '@herald/deliveries';
import { CircuitBreaker } from '@herald/resilience';
import type { TenantPrincipal } from '@herald/tenants';
import { TenantKey } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { IdPipe, notFound } from '../http/validation.pipes';
import { circuitView, EXAMPLE_CIRCUIT } from './admin.schemas';
import { withRedis } from './engine-http';
import { senderAccountIdParams } from './sender-accounts.schemas';

/**
 * One sender account's circuit breaker, for anyone who may read the account (the console's
 * sender-account page shows it next to the quota gauges); the fleet-wide list and forcing a
 * circuit stay `operator` routes under /v1/admin/circuits.
 */
@Controller('v1/sender-accounts/:id/circuit')
export class SenderAccountCircuitController {
  constructor(
    private readonly accounts: SenderAccountsRepository,
    private readonly breaker: CircuitBreaker,
  ) {}

  @Get()
  @ApiRoute({
    id: 'senderAccounts.circuit',
    tag: 'sender-accounts',
    access: 'read',
    summary: 'Circuit state of a sender account',
    description:
      'closed (sending), open (paused after failures, or forced, until `open_until`) or half-open (trying again). An account with no record is closed. 503 while Redis is unreachable.',
    params: senderAccountIdParams,
    success: { status: 200, description: 'The circuit.', schema: 'Circuit', example: EXAMPLE_CIRCUIT },
    problems: ['unavailable'],
  })
  async get(@TenantKey() principal: TenantPrincipal, @Param('id', new IdPipe('sender account')) id: string) {
    const account = await this.accounts.find(principal.tenantId, id);
    if (!account) throw notFound('sender account', id);
    return circuitView(
      await withRedis(() => this.breaker.get({ channel: account.channel, account: account.id })),
    );
  }
}
