import { Body, Controller, Delete, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import type { Principal } from '@herald/tenants';
import type { Response } from 'express';
import type { z } from 'zod';
import { Caller } from '../http/access';
import { ApiRoute } from '../http/openapi';
import { ProblemException } from '../http/problem';
import { ZodPipe } from '../http/validation.pipes';
import { KeySignIn } from './key-sign-in';
import { clearSessionCookie, setSessionCookie, type SessionRequest } from './session-cookie';
import { EXAMPLE_SESSION, signInBody } from './sessions.schemas';
import { SessionsService, type ActiveSession } from './sessions.service';

/** The console's sign-in: a key exchanged once for an HttpOnly session cookie. */
@Controller('v1/sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly keys: KeySignIn,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {}

  @Post()
  @ApiRoute({
    id: 'sessions.create',
    tag: 'sessions',
    access: 'public',
    summary: 'Sign in to the console',
    description:
      'Exchanges a key (sent once, in the body) for a `herald_session` cookie (HttpOnly, SameSite=Strict, Secure outside dev) that acts with exactly that key’s scopes — the platform admin key: the platform view. The session ends after SESSION_IDLE_TIMEOUT_SECONDS unused, SESSION_MAX_AGE_SECONDS after sign-in, when its key is revoked, or on sign-out. A wrong key counts as a failed authentication (the same lockout as keys in headers).',
    body: { schema: signInBody, example: { key: 'hk_AAAAAAAAAAAA_not-a-real-key-for-the-example-only' } },
    success: {
      status: 201,
      description: 'Signed in; the cookie is set.',
      schema: 'ConsoleSession',
      example: EXAMPLE_SESSION,
    },
    problems: ['unavailable'],
  })
  async create(
    @Req() req: SessionRequest,
    @Res({ passthrough: true }) res: Response,
    @Body(new ZodPipe(signInBody, 'body')) body: z.output<typeof signInBody>,
  ) {
    const principal = await this.keys.verify(req, body.key);
    const { token, view } = await this.sessions.start(principal);
    setSessionCookie(res, token, this.config);
    res.setHeader('Cache-Control', 'no-store');
    res.status(201);
    return view;
  }

  @Get('current')
  @ApiRoute({
    id: 'sessions.current',
    tag: 'sessions',
    access: 'public',
    summary: 'The current console session',
    description:
      'Who the session cookie signs in as, and its CSRF token (the console calls this on load). 401 without a live session — a request made with a key has none.',
    success: { status: 200, description: 'The session.', schema: 'ConsoleSession', example: EXAMPLE_SESSION },
  })
  current(@Req() req: SessionRequest, @Res({ passthrough: true }) res: Response) {
    res.setHeader('Cache-Control', 'no-store');
    return this.sessions.view(sessionOf(req));
  }

  @Delete('current')
  @HttpCode(204)
  @ApiRoute({
    id: 'sessions.delete',
    tag: 'sessions',
    access: 'public',
    summary: 'Sign out of the console',
    description: 'Ends the session at once (server side) and clears the cookie. Needs `X-CSRF-Token`.',
    success: { status: 204, description: 'Signed out.' },
  })
  async delete(@Req() req: SessionRequest, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.sessions.end(sessionOf(req).token);
    clearSessionCookie(res, this.config);
  }

  @Post('links')
  @ApiRoute({
    id: 'sessions.createLink',
    tag: 'sessions',
    access: 'operator',
    summary: 'Mint a one-time console sign-in link',
    description:
      'A link (`/console/sign-in?token=…`) that signs one browser in once, within SIGN_IN_LINK_TTL_SECONDS, as the key that minted it (a tenant admin key: that key; the platform admin key: the platform view). Only its hash is stored. Made with a key, never with a console session (a session cannot extend itself).',
    success: {
      status: 201,
      description: 'The link: give it to one person.',
      schema: 'ConsoleSignInLink',
      example: {
        url: 'http://127.0.0.1:3000/console/sign-in?token=hl_Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE',
        expires_at: '2026-12-07T10:15:00.000Z',
      },
    },
  })
  async createLink(
    @Caller() caller: Principal,
    @Req() req: SessionRequest,
    @Res({ passthrough: true }) res: Response,
  ) {
    if (req.consoleSession) {
      throw ProblemException.of(
        'forbidden',
        'Sign-in links are minted with an API key, not a console session.',
      );
    }
    const { token, expiresAt } = await this.sessions.mintLink(
      caller.kind === 'tenant'
        ? { kind: 'tenant', tenantId: caller.tenantId, keyId: caller.keyId }
        : { kind: 'platform' },
    );
    res.setHeader('Cache-Control', 'no-store');
    res.status(201);
    return {
      url: `${req.protocol}://${req.get('host') ?? 'localhost'}/console/sign-in?token=${token}`,
      expires_at: expiresAt.toISOString(),
    };
  }
}

function sessionOf(req: SessionRequest): ActiveSession {
  if (!req.consoleSession) {
    throw ProblemException.of('unauthorized', 'No console session: sign in with POST /v1/sessions.');
  }
  return req.consoleSession;
}
