import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import {
  OutboundGuard,
  signWebhook,
  smtpAccountConfigSchema,
  webhookAccountConfigSchema,
  type VettedAddresses,
} from '@herald/channels';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import { SenderAccountsRepository } from '@herald/deliveries';
import { CLOCK, type Clock } from '@herald/time';
import type { ReportSettings } from './report-settings';

/** A finished report, ready to leave: the rendered email parts and the JSON document. */
export interface RenderedReport {
  tenantId: string;
  week: string;
  subject: string;
  html: string;
  text: string;
  json: unknown;
}

/** A report that could not be delivered (account gone, destination refused or failing). */
export class ReportDeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportDeliveryError';
  }
}

/**
 * Delivers a weekly report through one of the tenant's sender accounts, as the channels reach
 * their destinations: the host vetted by the shared OutboundGuard and the connection pinned to
 * the vetted address. By email (an smtp account: HTML with the text part, to the settings'
 * recipients), or to a webhook account's URL as signed JSON (X-Herald-Signature like the
 * webhook channel, `Idempotency-Key: weekly-report:<tenant>:<week>` so a receiver drops a
 * repeat). The channels themselves send deliveries (a contact, a text body), not reports:
 * this is the same connection discipline for a different message.
 */
@Injectable()
export class ReportSender {
  private readonly guard: OutboundGuard;
  private readonly timeoutMs: number;

  constructor(
    private readonly accounts: SenderAccountsRepository,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.guard = new OutboundGuard({ allowPrivateNetworks: config.delivery.allowPrivateNetworks });
    this.timeoutMs = Math.max(config.delivery.smtpTimeoutMs, config.delivery.webhookTimeoutMs);
  }

  async deliver(settings: ReportSettings, report: RenderedReport): Promise<'email' | 'webhook'> {
    if (settings.delivery === 'off' || !settings.senderAccountId)
      throw new ReportDeliveryError('report delivery is off');
    const account = await this.accounts.forSending(report.tenantId, settings.senderAccountId);
    if (!account) throw new ReportDeliveryError('the report’s sender account no longer exists');
    if (settings.delivery === 'email') {
      const config = smtpAccountConfigSchema.safeParse(account.config);
      if (account.channel !== 'smtp' || !config.success)
        throw new ReportDeliveryError('the report’s sender account is not a valid smtp account');
      await this.email(config.data, settings.recipients, report);
      return 'email';
    }
    const config = webhookAccountConfigSchema.safeParse(account.config);
    if (account.channel !== 'webhook' || !config.success)
      throw new ReportDeliveryError('the report’s sender account is not a valid webhook account');
    await this.webhook(config.data.url, config.data.secret, report);
    return 'webhook';
  }

  private async email(
    config: ReturnType<typeof smtpAccountConfigSchema.parse>,
    recipients: readonly string[],
    report: RenderedReport,
  ): Promise<void> {
    const [target] = await this.vet(config.host);
    const name = config.host.replace(/^\[(.*)\]$/, '$1');
    const { createTransport } = await import('nodemailer');
    const transport = createTransport({
      host: target.address,
      port: config.port,
      secure: config.secure,
      requireTLS: config.require_tls ?? false,
      auth: { user: config.username, pass: config.password },
      tls: {
        rejectUnauthorized: config.reject_unauthorized ?? true,
        ...(isIP(name) === 0 ? { servername: name } : {}),
      },
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      socketTimeout: this.timeoutMs,
    });
    try {
      await transport.sendMail({
        from: config.from,
        to: [...recipients],
        subject: report.subject,
        text: report.text,
        html: report.html,
        messageId: `<weekly-report.${report.tenantId}.${report.week}@herald>`,
        headers: { 'X-Herald-Report': `weekly ${report.week}` },
      });
    } catch (error) {
      throw new ReportDeliveryError(`smtp: ${(error as Error).message}`, { cause: error });
    } finally {
      transport.close();
    }
  }

  private async webhook(rawUrl: string, secret: string, report: RenderedReport): Promise<void> {
    const url = new URL(rawUrl);
    const [target] = await this.vet(url.hostname);
    const body = JSON.stringify({ type: 'weekly_report', report: report.json });
    const timestamp = Math.floor(this.clock.nowMs() / 1000);
    const pinned: LookupFunction = (_host, options, callback) => {
      if (typeof options === 'object' && options.all)
        (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [
          { address: target.address, family: target.family },
        ]);
      else callback(null, target.address, target.family);
    };
    const options: RequestOptions = {
      method: 'POST',
      host: url.hostname,
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      lookup: pinned,
      timeout: this.timeoutMs,
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': `Herald/${this.config.app.version} (+reports)`,
        'idempotency-key': `weekly-report:${report.tenantId}:${report.week}`,
        'x-herald-signature': signWebhook(secret, body, timestamp),
      },
    };
    const status = await new Promise<number>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        options,
        (res: IncomingMessage) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    }).catch((error: unknown) => {
      throw new ReportDeliveryError(`webhook: ${(error as Error).message}`, { cause: error });
    });
    if (status < 200 || status >= 300) throw new ReportDeliveryError(`webhook answered ${status}`);
  }

  private async vet(host: string): Promise<VettedAddresses> {
    try {
      return await this.guard.vet(host);
    } catch (error) {
      throw new ReportDeliveryError((error as Error).message, { cause: error });
    }
  }
}
