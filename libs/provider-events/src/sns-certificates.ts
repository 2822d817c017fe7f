import type { OutboundGuard } from '@herald/channels';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { guardedGet, GuardedGetError } from './guarded-get';
import { ProviderSignatureError } from './provider-errors';

/** Certificates kept at most (one per SNS region and key rotation, in practice a handful). */
const MAX_CACHED = 64;

export interface SnsCertificateOptions {
  /** What the URL's origin (`scheme://host[:port]`) must match in full: `sns.<region>.amazonaws.com` in production. */
  allowedOrigin: RegExp;
  cacheSeconds: number;
  timeoutMs: number;
  userAgent: string;
}

/** Whether an SNS-given URL (SigningCertURL, SubscribeURL) is one Herald may fetch: its whole origin matches. */
export function isAllowedSnsUrl(url: URL, allowedOrigin: RegExp): boolean {
  // Anchored whatever the pattern says, so `sns.x.amazonaws.com.evil.example` never passes.
  const whole = new RegExp(`^(?:${allowedOrigin.source})$`);
  return whole.test(url.origin) && url.username === '' && url.password === '';
}

/**
 * The public keys of SNS signing certificates, fetched only from allowed origins (through the
 * outbound guard) and kept per URL for `cacheSeconds`, so a burst of notifications costs one fetch.
 */
export class SnsCertificates {
  private readonly cache = new Map<string, { key: KeyObject; until: number }>();

  constructor(
    private readonly guard: OutboundGuard,
    private readonly options: SnsCertificateOptions,
  ) {}

  async keyFor(certUrl: string, nowMs = Date.now()): Promise<KeyObject> {
    let url: URL;
    try {
      url = new URL(certUrl);
    } catch {
      throw new ProviderSignatureError('SigningCertURL is not a URL');
    }
    if (!isAllowedSnsUrl(url, this.options.allowedOrigin) || !url.pathname.endsWith('.pem')) {
      throw new ProviderSignatureError('SigningCertURL is not an SNS certificate URL');
    }
    const cached = this.cache.get(url.href);
    if (cached && cached.until > nowMs) return cached.key;
    let key: KeyObject;
    try {
      const answer = await guardedGet(this.guard, url, {
        timeoutMs: this.options.timeoutMs,
        maxBytes: 64 * 1024,
        userAgent: this.options.userAgent,
      });
      if (answer.status !== 200) throw new GuardedGetError(`the certificate URL answered ${answer.status}`);
      key = new X509Certificate(answer.body).publicKey;
    } catch (error) {
      // Without the certificate nothing can be verified: the message is refused (SNS retries it).
      throw new ProviderSignatureError(
        `the SNS signing certificate could not be used: ${(error as Error).message}`,
      );
    }
    if (this.options.cacheSeconds > 0) {
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(url.href, { key, until: nowMs + this.options.cacheSeconds * 1000 });
    }
    return key;
  }
}
