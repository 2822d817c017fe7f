import { createHmac, timingSafeEqual } from 'node:crypto';
import type { KeyRing } from '@herald/config';

/** What a link in an email does: the hosted unsubscribe page, the open pixel, a click redirect. */
export type LinkPurpose = 'unsubscribe' | 'open' | 'click';

/** Which message a link came from: enough to act on it without trusting anything else in the URL. */
export interface LinkSubject {
  tenantId: string;
  deliveryId: string;
  contactId: string;
}

export type LinkClaims =
  | (LinkSubject & { purpose: 'unsubscribe' | 'open' })
  | (LinkSubject & { purpose: 'click'; linkIndex: number; url: string });

const VERSION = 1;
const PURPOSE_BYTES: Record<LinkPurpose, number> = { unsubscribe: 0x75, open: 0x6f, click: 0x63 };
const UUID_BYTES = 16;
/** 128 bits of HMAC-SHA256: forging one is out of reach, and the links stay short. */
const TAG_BYTES = 16;
const HEAD_BYTES = 2 + 3 * UUID_BYTES;
/** Links past this index in one message are not rewritten (the index is two bytes). */
export const MAX_LINK_INDEX = 0xffff;
/** A URL longer than this is not rewritten: the token would make the link unwieldy. */
export const MAX_SIGNED_URL_LENGTH = 2048;

/**
 * Signed, not sealed: a compact binary token (version, purpose, tenant, delivery and contact as
 * raw UUID bytes, for a click the link's index and URL) with a truncated HMAC, base64url. The
 * click's URL is signed into the token, so the redirect goes only to a link that was in the
 * message (no open redirect) without storing each message's links. Signed with the current
 * key of the ring; a token signed with a previous key still verifies while that key is listed.
 */
export class LinkTokens {
  constructor(private readonly keys: KeyRing) {}

  sign(claims: LinkClaims): string {
    const head = Buffer.alloc(HEAD_BYTES);
    head[0] = VERSION;
    head[1] = PURPOSE_BYTES[claims.purpose];
    uuidBytes(claims.tenantId).copy(head, 2);
    uuidBytes(claims.deliveryId).copy(head, 2 + UUID_BYTES);
    uuidBytes(claims.contactId).copy(head, 2 + 2 * UUID_BYTES);
    let payload = head;
    if (claims.purpose === 'click') {
      const index = Buffer.alloc(2);
      index.writeUInt16BE(claims.linkIndex);
      payload = Buffer.concat([head, index, Buffer.from(claims.url, 'utf8')]);
    }
    return Buffer.concat([payload, tag(this.keys.current.key.reveal(), payload)]).toString('base64url');
  }

  /** The claims of a token signed by a key of the ring for `purpose`; undefined for anything else. */
  verify(token: string, purpose: LinkPurpose): LinkClaims | undefined {
    if (!/^[A-Za-z0-9_-]{1,4096}$/.test(token)) return undefined;
    const raw = Buffer.from(token, 'base64url');
    // Only the one spelling sign() makes: a decoder drops stray trailing characters silently.
    if (raw.length < HEAD_BYTES + TAG_BYTES || raw.toString('base64url') !== token) return undefined;
    const payload = raw.subarray(0, raw.length - TAG_BYTES);
    const given = raw.subarray(raw.length - TAG_BYTES);
    const genuine = this.keys.keys.some((k) => timingSafeEqual(tag(k.key.reveal(), payload), given));
    if (!genuine || payload[0] !== VERSION || payload[1] !== PURPOSE_BYTES[purpose]) return undefined;
    const subject: LinkSubject = {
      tenantId: uuidText(payload.subarray(2, 2 + UUID_BYTES)),
      deliveryId: uuidText(payload.subarray(2 + UUID_BYTES, 2 + 2 * UUID_BYTES)),
      contactId: uuidText(payload.subarray(2 + 2 * UUID_BYTES, HEAD_BYTES)),
    };
    if (purpose !== 'click') {
      return payload.length === HEAD_BYTES ? { ...subject, purpose } : undefined;
    }
    if (payload.length < HEAD_BYTES + 3) return undefined;
    return {
      ...subject,
      purpose,
      linkIndex: payload.readUInt16BE(HEAD_BYTES),
      url: payload.subarray(HEAD_BYTES + 2).toString('utf8'),
    };
  }
}

function tag(key: Buffer, payload: Buffer): Buffer {
  return createHmac('sha256', key).update(payload).digest().subarray(0, TAG_BYTES);
}

function uuidBytes(id: string): Buffer {
  const hex = id.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a UUID: ${id}`);
  return Buffer.from(hex, 'hex');
}

function uuidText(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
