/**
 * Who fetches an email's pixel or follows its links without a person behind it. Each entry says
 * why it is a machine; an open or click matching any is recorded with `machine: true` and never
 * counted as a person's. Kept in this one file so the list is reviewed in one place.
 */
interface Prefetcher {
  readonly name: string;
  readonly userAgent: RegExp;
  readonly why: string;
}

export const PREFETCHERS: readonly Prefetcher[] = [
  {
    name: 'apple-mpp',
    // Apple's relays send exactly this, nothing after it.
    userAgent: /^Mozilla\/5\.0$/,
    why: 'Apple Mail Privacy Protection loads every image of every message on delivery, opened or not.',
  },
  {
    name: 'google-image-proxy',
    userAgent: /GoogleImageProxy|ggpht\.com/i,
    why: 'Gmail fetches images through its proxy (and caches them): its fetch says nothing reliable about a person.',
  },
  {
    name: 'yahoo-proxy',
    userAgent: /YahooMailProxy/i,
    why: 'Yahoo Mail prefetches and caches images through its proxy.',
  },
  {
    name: 'outlook-link-scanner',
    userAgent: /Microsoft Office|ms-office|MSOffice|Safe ?Links|Microsoft Defender/i,
    why: 'Microsoft Defender Safe Links and Office previews follow links to scan them before anyone clicks.',
  },
  {
    name: 'security-gateway',
    userAgent:
      /Barracuda|Mimecast|Proofpoint|urldefense|IronPort|Symantec|Forcepoint|Trend ?Micro|TMUFE|Zscaler|Sophos|FireEye|Trustwave|Cloudmark|SpamTitan|Hornet/i,
    why: 'Mail security gateways open every link (and often the pixel) of an incoming message to scan it.',
  },
  {
    name: 'link-preview',
    userAgent:
      /Slackbot|Twitterbot|facebookexternalhit|LinkedInBot|Discordbot|TelegramBot|WhatsApp|SkypeUriPreview/i,
    why: 'Chat and social apps fetch a link to draw its preview when it is pasted or forwarded.',
  },
  {
    name: 'generic-bot',
    userAgent:
      /bot\b|crawler|spider|headless|python-requests|python-urllib|go-http-client|java\/|okhttp|curl\/|wget\/|libwww|httpclient|^node$|undici/i,
    why: 'Crawlers, HTTP libraries and headless browsers: scripts, not people reading mail.',
  },
];

export interface MachineVerdict {
  machine: boolean;
  /** Which rule said so (stored in the event's details), null for a person. */
  reason: string | null;
}

export interface RequestFacts {
  method: string;
  userAgent: string | undefined;
  /** Seconds since the message was sent; null when unknown (never sent). */
  secondsSinceSend: number | null;
  /** TRACKING_MACHINE_WINDOW_SECONDS: sooner than this after the send is a machine (0: off). */
  windowSeconds: number;
}

/** A machine, and why, or a person. */
export function classifyRequest(facts: RequestFacts): MachineVerdict {
  // A HEAD fetches headers only: link checkers and scanners; a person's mail client GETs.
  if (facts.method === 'HEAD') return { machine: true, reason: 'head-request' };
  const agent = facts.userAgent?.trim() ?? '';
  // Every mail client and browser says who it is.
  if (agent === '') return { machine: true, reason: 'no-user-agent' };
  const known = PREFETCHERS.find((p) => p.userAgent.test(agent));
  if (known) return { machine: true, reason: known.name };
  // Scanners act on arrival; a person rarely reads a message within seconds of its send.
  if (
    facts.windowSeconds > 0 &&
    facts.secondsSinceSend !== null &&
    facts.secondsSinceSend < facts.windowSeconds
  ) {
    return { machine: true, reason: 'too-soon-after-send' };
  }
  return { machine: false, reason: null };
}
