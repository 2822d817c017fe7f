import { KEY_PURPOSES, type HeraldConfig, type KeyRing } from '@herald/config';
import { LinkTokens, type LinkSubject } from './link-token';

/** The paths recipients' links land on (served by the api: apps/api/src/mail). */
export const PUBLIC_LINK_PATHS = {
  unsubscribe: '/u/',
  open: '/t/o/',
  click: '/t/c/',
} as const;

/**
 * The links Herald puts in an email, signed for the one message they came from. Without a
 * PUBLIC_BASE_URL there is nowhere recipients could reach: no links at all (`enabled` false).
 */
export class PublicLinks {
  readonly tokens: LinkTokens;

  /** `keys`: the encryption ring (a subkey for links is derived from it); `baseUrl` without a trailing slash. */
  constructor(
    readonly baseUrl: string,
    keys: KeyRing,
  ) {
    this.tokens = new LinkTokens(keys.derive(KEY_PURPOSES.publicLinks));
  }

  static fromConfig(config: HeraldConfig): PublicLinks {
    return new PublicLinks(config.delivery.publicBaseUrl, config.security.encryptionKeys);
  }

  get enabled(): boolean {
    return this.baseUrl !== '';
  }

  unsubscribe(subject: LinkSubject): string {
    return `${this.baseUrl}${PUBLIC_LINK_PATHS.unsubscribe}${this.tokens.sign({ ...subject, purpose: 'unsubscribe' })}`;
  }

  openPixel(subject: LinkSubject): string {
    return `${this.baseUrl}${PUBLIC_LINK_PATHS.open}${this.tokens.sign({ ...subject, purpose: 'open' })}.gif`;
  }

  click(subject: LinkSubject, linkIndex: number, url: string): string {
    return `${this.baseUrl}${PUBLIC_LINK_PATHS.click}${this.tokens.sign({ ...subject, purpose: 'click', linkIndex, url })}`;
  }
}
