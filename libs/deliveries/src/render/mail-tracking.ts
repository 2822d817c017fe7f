import { load } from 'cheerio';
import { MAX_LINK_INDEX, MAX_SIGNED_URL_LENGTH } from './links/link-token';
import type { MessageTracking } from './message-content';

export interface TrackingLinks {
  /** The tracked URL of the message's `index`-th web link. */
  click(index: number, url: string): string;
  openPixel(): string;
  /** Never rewritten: the unsubscribe link must work without a redirect. */
  unsubscribeUrl: string | null;
}

/**
 * The message's HTML with tracking as the campaign asked: every http(s) link (not the
 * unsubscribe link) through a click redirect that names its index and signs its URL, and a 1×1
 * open pixel at the end of the body. Untouched when both are off.
 */
export function addTracking(html: string, tracking: MessageTracking, links: TrackingLinks): string {
  if (!tracking.clicks && !tracking.opens) return html;
  const $ = load(html);
  if (tracking.clicks) {
    let index = 0;
    $('a[href]').each((_i, element) => {
      const anchor = $(element);
      const href = (anchor.attr('href') ?? '').trim();
      if (!/^https?:\/\//i.test(href) || href === links.unsubscribeUrl) return;
      if (index > MAX_LINK_INDEX || href.length > MAX_SIGNED_URL_LENGTH) return;
      anchor.attr('href', links.click(index, href));
      index += 1;
    });
  }
  if (tracking.opens) {
    const pixel = `<img src="${links.openPixel()}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;">`;
    const body = $('body');
    if (body.length > 0) body.append(pixel);
    else $.root().append(pixel);
  }
  return $.html();
}
