import { classifyRequest } from './prefetchers';

const person =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
const facts = (over: Partial<Parameters<typeof classifyRequest>[0]>) =>
  classifyRequest({ method: 'GET', userAgent: person, secondsSinceSend: 3600, windowSeconds: 10, ...over });

describe('prefetchers', () => {
  it('takes a mail client an hour after the send for a person', () => {
    expect(facts({})).toEqual({ machine: false, reason: null });
  });

  it.each([
    ['Mozilla/5.0', 'apple-mpp'],
    [
      'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
      'google-image-proxy',
    ],
    ['YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html', 'yahoo-proxy'],
    ['Mozilla/5.0 (compatible; Barracuda Sentinel)', 'security-gateway'],
    ['Mozilla/4.0 (compatible; ms-office; MSOffice 16)', 'outlook-link-scanner'],
    ['Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', 'link-preview'],
    ['python-requests/2.32.3', 'generic-bot'],
    ['curl/8.5.0', 'generic-bot'],
  ])('flags %s as %s', (userAgent, reason) => {
    expect(facts({ userAgent })).toEqual({ machine: true, reason });
  });

  it('flags HEAD requests, requests without a user agent, and requests within the window after the send', () => {
    expect(facts({ method: 'HEAD' })).toEqual({ machine: true, reason: 'head-request' });
    expect(facts({ userAgent: undefined })).toEqual({ machine: true, reason: 'no-user-agent' });
    expect(facts({ userAgent: '  ' })).toEqual({ machine: true, reason: 'no-user-agent' });
    expect(facts({ secondsSinceSend: 2 })).toEqual({ machine: true, reason: 'too-soon-after-send' });
    expect(facts({ secondsSinceSend: 2, windowSeconds: 0 })).toEqual({ machine: false, reason: null });
    expect(facts({ secondsSinceSend: null })).toEqual({ machine: false, reason: null });
  });
});
