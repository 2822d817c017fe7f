import { Injectable } from '@nestjs/common';
import { quotaAccountOf, SenderAccountsRepository } from '@herald/deliveries';
import { QuotaService } from '@herald/rate-limit';
import type { SendWindowSpec, WindowUnit } from '@herald/time';
import type { QuotaPolicy, SendWindow } from '../campaign-fields';
import type { QuotaPlanInput } from '../forecast';
import { sendWindowSpec } from '../send-window';

/** What a plan of a run's sends is made from: the account's quota windows at an instant, and the send window. */
export interface ForecastBasis {
  at: string;
  zone: string;
  limits: Partial<Record<WindowUnit, number>>;
  remaining: Partial<Record<WindowUnit, number>>;
  policy: QuotaPolicy;
  send_window: SendWindowSpec | null;
}

/** The campaign fields a basis reads. */
export interface BasisCampaign {
  sender_account_id: string;
  send_window: SendWindow | null;
  quota_policy: QuotaPolicy;
}

/** Reads a forecast's or an ETA's basis: the sender account's quota windows as they stand now. */
@Injectable()
export class QuotaBasis {
  constructor(
    private readonly accounts: SenderAccountsRepository,
    private readonly quota: QuotaService,
  ) {}

  /** The sender account's windows as they stand at `nowMs`, and the campaign's send window. */
  async at(tenantId: string, campaign: BasisCampaign, nowMs: number): Promise<ForecastBasis> {
    const account = await this.accounts.find(tenantId, campaign.sender_account_id);
    const zone = account?.timeZone ?? 'UTC';
    const limits: ForecastBasis['limits'] = {};
    const remaining: ForecastBasis['remaining'] = {};
    if (account) {
      for (const w of await this.quota.usage(quotaAccountOf(account))) {
        limits[w.unit] = w.limit;
        remaining[w.unit] = w.remaining;
      }
    }
    return {
      at: new Date(nowMs).toISOString(),
      zone,
      limits,
      remaining,
      policy: campaign.quota_policy,
      send_window: campaign.send_window ? sendWindowSpec(campaign.send_window, zone) : null,
    };
  }
}

/** The quota plan's input for `count` sends from a basis. */
export function planInput(basis: ForecastBasis, count: number): QuotaPlanInput {
  return {
    count,
    fromMs: Date.parse(basis.at),
    zone: basis.zone,
    limits: basis.limits,
    remaining: basis.remaining,
    policy: basis.policy,
    ...(basis.send_window ? { sendWindow: basis.send_window } : {}),
  };
}
