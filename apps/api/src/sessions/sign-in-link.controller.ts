import { Controller, Get, Inject, Query, Res } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import type { Response } from 'express';
import type { z } from 'zod';
import { ApiRoute } from '../http/openapi';
import { ProblemException } from '../http/problem';
import { ZodPipe } from '../http/validation.pipes';
import { setSessionCookie } from './session-cookie';
import { signInLinkQuery } from './sessions.schemas';
import { SessionsService } from './sessions.service';

/** `GET /console/sign-in?token=…`: a one-time link (`npm run dev` prints one) becomes a session. */
@Controller('console')
export class SignInLinkController {
  constructor(
    private readonly sessions: SessionsService,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}

  @Get('sign-in')
  @ApiRoute({
    id: 'sessions.signInWithLink',
    tag: 'sessions',
    access: 'public',
    summary: 'Sign in with a one-time link',
    description:
      'Uses the link’s token (once: a second use, or one after its expiry, is refused), sets the session cookie and redirects (303) to `/console/`.',
    query: signInLinkQuery,
    success: { status: 303, description: 'Signed in; `Location: /console/`.' },
  })
  async signIn(
    @Query(new ZodPipe(signInLinkQuery, 'query')) query: z.output<typeof signInLinkQuery>,
    @Res() res: Response,
  ): Promise<void> {
    const started = await this.sessions.startFromLink(query.token);
    if (!started) {
      throw ProblemException.of(
        'unauthorized',
        'This sign-in link was already used, has expired, or its key was revoked: ask for a new one (`herald sessions link`).',
      );
    }
    setSessionCookie(res, started.token, this.config);
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, '/console/');
  }
}
