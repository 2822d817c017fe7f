import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { PublicLinks } from '@herald/deliveries';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { ApiRoute } from '../http/openapi';
import { MailLinksRepository } from './mail-links.repository';
import { confirmPage, donePage, notFoundPage } from './mail-pages';
import { PublicWork } from './public-work';
import { TrackingService } from './tracking.service';
import { UnsubscribeService } from './unsubscribe.service';

const tokenParams = z.object({
  token: z.string().meta({ description: 'The signed token from the email’s link.', examples: ['AXXk…'] }),
});

/** A transparent 1×1 GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/**
 * What recipients reach from an email, without a key: the signed token is the credential (a
 * forged or altered one is a 404, never a 500, and costs no database work). The hosted unsubscribe
 * page (GET shows, POST confirms — also the RFC 8058 one-click POST mailbox providers send), the
 * open pixel and the click redirect. Their database work takes turns within the replica's public
 * share (PublicWork).
 */
@Controller()
export class PublicMailController {
  constructor(
    private readonly links: PublicLinks,
    private readonly deliveries: MailLinksRepository,
    private readonly unsubscribes: UnsubscribeService,
    private readonly tracking: TrackingService,
    private readonly work: PublicWork,
  ) {}

  @Get('u/:token')
  @ApiRoute({
    id: 'mail.unsubscribePage',
    tag: 'mail',
    access: 'public',
    summary: 'The hosted unsubscribe page',
    description:
      'The page an email’s unsubscribe link opens: names the address and asks to confirm with one button (a form POST to the same URL; no JavaScript). Unsubscribes nobody by itself (mail scanners follow links). HTML; 404 for a link that is not valid.',
    params: tokenParams,
    success: { status: 200, description: 'The confirmation page (text/html).' },
    problems: ['not-found'],
  })
  async page(@Param('token') token: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const subject = this.links.tokens.verify(token, 'unsubscribe');
    const delivery = subject && (await this.work.run(() => this.deliveries.find(subject)));
    if (!delivery) return notFoundPage(res);
    confirmPage(res, req.originalUrl, delivery.email);
  }

  @Post('u/:token')
  @HttpCode(200)
  @ApiRoute({
    id: 'mail.unsubscribe',
    tag: 'mail',
    access: 'public',
    summary: 'Unsubscribe (one-click)',
    description:
      'Confirms the unsubscribe: the page’s form, or the RFC 8058 one-click POST (`List-Unsubscribe=One-Click`) a mailbox provider sends for the `List-Unsubscribe-Post` header. Within the request the address is suppressed, the contact’s active enrolments stop with their waiting deliveries, and an `unsubscribed` engagement event is recorded for the message. Idempotent: a repeat changes nothing and answers the same page. HTML; 404 for a link that is not valid.',
    params: tokenParams,
    success: { status: 200, description: 'Unsubscribed (text/html).' },
    problems: ['not-found'],
  })
  async unsubscribe(@Param('token') token: string, @Res() res: Response): Promise<void> {
    const subject = this.links.tokens.verify(token, 'unsubscribe');
    if (!subject || !(await this.work.run(() => this.unsubscribes.confirm(subject))))
      return notFoundPage(res);
    donePage(res);
  }

  @Get('t/o/:token.gif')
  @ApiRoute({
    id: 'mail.openPixel',
    tag: 'mail',
    access: 'public',
    summary: 'Open pixel',
    description:
      'A 1×1 GIF in emails of campaigns that track opens; each fetch records an `opened` engagement event (one per message and minute; image proxies, scanners and fetches right after the send are flagged as machines). 404 for a token that is not valid.',
    params: tokenParams,
    success: { status: 200, description: 'image/gif' },
    problems: ['not-found'],
  })
  async open(@Param('token') token: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const subject = this.links.tokens.verify(token, 'open');
    if (!subject) return void res.status(404).set('Cache-Control', 'no-store').end();
    await this.work.runOrShed('open', () => this.tracking.record(subject, { kind: 'opened' }, tracked(req)));
    res
      .status(200)
      .set({
        'Content-Type': 'image/gif',
        'Cache-Control': 'no-store, private',
        'Content-Length': String(PIXEL.length),
      })
      .end(req.method === 'HEAD' ? undefined : PIXEL);
  }

  @Get('t/c/:token')
  @ApiRoute({
    id: 'mail.click',
    tag: 'mail',
    access: 'public',
    summary: 'Click redirect',
    description:
      'A link of an email of a campaign that tracks clicks: records a `clicked` engagement event and redirects (302) to the link’s URL, which is signed into the token — only a link that was in that message, never any other address. 404 for a token that is not valid.',
    params: tokenParams,
    success: { status: 302, description: '`Location`: the link of the message.' },
    problems: ['not-found'],
  })
  async click(@Param('token') token: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const claims = this.links.tokens.verify(token, 'click');
    if (!claims || claims.purpose !== 'click' || !/^https?:\/\//i.test(claims.url)) {
      return void res.status(404).set('Cache-Control', 'no-store').end();
    }
    await this.work.runOrShed('click', () =>
      this.tracking.record(
        claims,
        { kind: 'clicked', linkIndex: claims.linkIndex, url: claims.url },
        tracked(req),
      ),
    );
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).redirect(302, claims.url);
  }
}

function tracked(req: Request) {
  return { method: req.method, userAgent: req.get('user-agent') };
}
