import { Inject, Injectable } from '@nestjs/common';
import { HERALD_CONFIG, type HeraldConfig } from '@herald/config';
import type { ApiKeyScope, Principal } from '@herald/tenants';
import { SessionsRepository, type LiveSession, type SessionOwner } from './sessions.repository';
import {
  csrfTokenOf,
  looksLikeToken,
  newLinkToken,
  newSessionToken,
  platformBinding,
  sameHash,
  tokenHash,
} from './session-token';

/** What sign-in and `GET /v1/sessions/current` answer. */
export interface SessionView {
  tenant_id: string | null;
  /** The tenant's zone, which the console shows times in; null for the platform view. */
  time_zone: string | null;
  scopes: ApiKeyScope[];
  expires_at: string;
  csrf_token: string;
}

/** A session found for a request: who it acts as, and what the session routes need. */
export interface ActiveSession {
  token: string;
  principal: Principal;
  session: LiveSession;
}

/** `last_seen_at` is written at most this often per session, never on every request. */
const TOUCH_EVERY_SECONDS = 60;

/**
 * Console sessions: a key exchanged once for a cookie that acts with exactly that key's scopes
 * (the platform admin key: the platform), ends after SESSION_IDLE_TIMEOUT_SECONDS idle or
 * SESSION_MAX_AGE_SECONDS after sign-in, and at once when its key is revoked or it is signed out.
 */
@Injectable()
export class SessionsService {
  private readonly adminKey: string;

  constructor(
    private readonly repository: SessionsRepository,
    @Inject(HERALD_CONFIG) private readonly config: HeraldConfig,
  ) {
    this.adminKey = config.security.adminKey.reveal();
  }

  /** A new session for a verified principal: its token (for the cookie only) and its view. */
  async start(principal: Principal): Promise<{ token: string; view: SessionView }> {
    const { idleTimeoutSeconds, maxAgeSeconds } = this.config.api.sessions;
    await this.repository.sweepExpired();
    const token = newSessionToken();
    const owner: SessionOwner =
      principal.kind === 'tenant'
        ? { kind: 'tenant', tenantId: principal.tenantId, keyId: principal.keyId }
        : { kind: 'platform' };
    const scopes = principal.kind === 'tenant' ? [...principal.scopes] : [];
    const { createdAt, expiresAt } = await this.repository.create({
      tokenHash: tokenHash(token),
      owner,
      scopes,
      csrfTokenHash: tokenHash(csrfTokenOf(token)),
      platformBinding: principal.kind === 'platform' ? platformBinding(token, this.adminKey) : null,
      maxAgeSeconds,
    });
    const idleEnd = new Date(createdAt.getTime() + idleTimeoutSeconds * 1000);
    return {
      token,
      view: {
        tenant_id: owner.kind === 'tenant' ? owner.tenantId : null,
        time_zone: principal.kind === 'tenant' ? principal.tenantTimeZone : null,
        scopes,
        expires_at: earliest(idleEnd, expiresAt).toISOString(),
        csrf_token: csrfTokenOf(token),
      },
    };
  }

  /** The live session a cookie names, or null (unknown, expired, idle, revoked key, changed admin key). */
  async authenticate(token: string): Promise<ActiveSession | null> {
    if (!looksLikeToken(token, 'session')) return null;
    const { idleTimeoutSeconds } = this.config.api.sessions;
    const hash = tokenHash(token);
    const session = await this.repository.findLive(hash, idleTimeoutSeconds);
    if (!session) return null;
    let principal: Principal;
    if (session.tenantId === null || session.keyId === null) {
      if (
        !session.platformBinding ||
        !sameHash(session.platformBinding, platformBinding(token, this.adminKey))
      )
        return null;
      principal = { kind: 'platform' };
    } else {
      principal = {
        kind: 'tenant',
        tenantId: session.tenantId,
        tenantTimeZone: session.tenantTimeZone ?? 'UTC',
        keyId: session.keyId,
        scopes: session.scopes,
      };
    }
    if (Date.now() - session.lastSeenAt.getTime() > TOUCH_EVERY_SECONDS * 1000) {
      await this.repository.touch(hash, TOUCH_EVERY_SECONDS);
      session.lastSeenAt = new Date();
    }
    return { token, principal, session };
  }

  /** Whether a write's `X-CSRF-Token` is this session's. */
  csrfMatches(active: ActiveSession, presented: string | undefined): boolean {
    if (!presented || presented.length > 256) return false;
    return sameHash(tokenHash(presented), active.session.csrfTokenHash);
  }

  view(active: ActiveSession): SessionView {
    const idleEnd = new Date(
      active.session.lastSeenAt.getTime() + this.config.api.sessions.idleTimeoutSeconds * 1000,
    );
    return {
      tenant_id: active.principal.kind === 'tenant' ? active.principal.tenantId : null,
      time_zone: active.principal.kind === 'tenant' ? active.principal.tenantTimeZone : null,
      scopes: active.principal.kind === 'tenant' ? [...active.principal.scopes] : [],
      expires_at: earliest(idleEnd, active.session.expiresAt).toISOString(),
      csrf_token: csrfTokenOf(active.token),
    };
  }

  async end(token: string): Promise<void> {
    await this.repository.delete(tokenHash(token));
  }

  /** A one-time sign-in link token for a principal; only its hash is kept. */
  async mintLink(owner: SessionOwner): Promise<{ token: string; expiresAt: Date }> {
    const token = newLinkToken();
    const expiresAt = await this.repository.createLink(
      tokenHash(token),
      owner,
      this.config.api.sessions.signInLinkTtlSeconds,
    );
    return { token, expiresAt };
  }

  /** Uses a link (once) and starts its session; null when the link cannot sign anyone in. */
  async startFromLink(linkToken: string): Promise<{ token: string; view: SessionView } | null> {
    if (!looksLikeToken(linkToken, 'link')) return null;
    const used = await this.repository.consumeLink(tokenHash(linkToken));
    if (!used) return null;
    const tenantZone = 'UTC'; // not needed to start a session: the lookup reads the zone on each request
    const principal: Principal =
      used.owner.kind === 'tenant'
        ? {
            kind: 'tenant',
            tenantId: used.owner.tenantId,
            tenantTimeZone: tenantZone,
            keyId: used.owner.keyId,
            scopes: used.scopes,
          }
        : { kind: 'platform' };
    return this.start(principal);
  }
}

function earliest(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}
