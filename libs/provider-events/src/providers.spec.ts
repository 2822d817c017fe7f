import { generateKeyPairSync, sign } from 'node:crypto';
import { parseMailgun } from './mailgun';
import { parsePostmark, verifyPostmark } from './postmark';
import { ProviderSignatureError } from './provider-errors';
import { heraldDigestOf, reference } from './provider-event';
import { parseSendgrid, verifySendgrid } from './sendgrid';
import { parseSesNotification, snsStringToSign, type SnsMessage } from './ses';
import { isAllowedSnsUrl } from './sns-certificates';

const SNS = /^https:\/\/sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

describe('provider events, pure parts', () => {
  it('allows SNS certificate and subscribe URLs only from a whole SNS origin', () => {
    const allowed = (url: string, pattern = SNS) => isAllowedSnsUrl(new URL(url), pattern);
    expect(allowed('https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem')).toBe(true);
    expect(allowed('https://sns.cn-north-1.amazonaws.com.cn/x.pem')).toBe(true);
    expect(allowed('https://sns.eu-west-1.amazonaws.com.evil.example/x.pem')).toBe(false);
    expect(allowed('http://sns.eu-west-1.amazonaws.com/x.pem')).toBe(false);
    expect(allowed('https://user:pw@sns.eu-west-1.amazonaws.com/x.pem')).toBe(false);
    expect(allowed('https://sns.eu-west-1.amazonaws.com:8443/x.pem')).toBe(false);
    // An unanchored pattern is anchored all the same.
    expect(allowed('https://evil.example/?sns.x.amazonaws.com', /sns\.[a-z0-9-]+\.amazonaws\.com/)).toBe(
      false,
    );
  });

  it('builds the string SNS signs: the documented fields in order, Subject only when present', () => {
    const base = {
      Message: 'm',
      MessageId: 'id',
      Timestamp: 't',
      TopicArn: 'arn',
      SignatureVersion: '2',
      Signature: 's',
      SigningCertURL: 'u',
    } as const;
    expect(snsStringToSign({ ...base, Type: 'Notification' })).toBe(
      'Message\nm\nMessageId\nid\nTimestamp\nt\nTopicArn\narn\nType\nNotification\n',
    );
    expect(snsStringToSign({ ...base, Type: 'Notification', Subject: 'sub' })).toBe(
      'Message\nm\nMessageId\nid\nSubject\nsub\nTimestamp\nt\nTopicArn\narn\nType\nNotification\n',
    );
    expect(
      snsStringToSign({ ...base, Type: 'SubscriptionConfirmation', Token: 'tok', SubscribeURL: 'https://s' }),
    ).toBe(
      'Message\nm\nMessageId\nid\nSubscribeURL\nhttps://s\nTimestamp\nt\nToken\ntok\nTopicArn\narn\nType\nSubscriptionConfirmation\n',
    );
  });

  it('reads Herald’s delivery id and Message-ID digest, and nothing else, from what a provider echoes', () => {
    const id = '0190f5e4-9999-7c3d-8e4f-5a6b7c8d9e0f';
    const digest = '4e1b2c0d9a8f7e6d5c4b3a2910f8e7d6';
    expect(reference(id.toUpperCase(), `<${digest}@herald>`)).toEqual({ deliveryId: id, messageId: digest });
    expect(reference([id], `${digest}@herald`)).toEqual({ deliveryId: id, messageId: digest });
    expect(reference('not-an-id', '<abc@mail.example>')).toEqual({});
    expect(heraldDigestOf(`<${digest}@elsewhere>`)).toBeUndefined();
  });

  it('classifies each provider’s bounces as hard or soft and skips what is not engagement', () => {
    const now = Math.floor(Date.now() / 1000);
    const sg = parseSendgrid([
      { event: 'bounce', type: 'bounce', sg_event_id: 'a', timestamp: now },
      { event: 'bounce', type: 'blocked', sg_event_id: 'b', timestamp: now },
      { event: 'processed', sg_event_id: 'c', timestamp: now },
      { event: 'delivered', timestamp: now },
      'garbage',
    ]);
    expect(sg.events.map((e) => [e.kind, e.bounceType])).toEqual([
      ['bounced', 'hard'],
      ['bounced', 'soft'],
    ]);
    expect(sg.ignored).toBe(3);
    const mg = (severity: string) =>
      parseMailgun({ 'event-data': { event: 'failed', id: 'x', timestamp: now, severity } }).events[0]!
        .bounceType;
    expect([mg('permanent'), mg('temporary')]).toEqual(['hard', 'soft']);
    const pm = (Type: string) =>
      parsePostmark({
        RecordType: 'Bounce',
        ID: 1,
        Type,
        MessageID: 'm',
        BouncedAt: new Date().toISOString(),
      }).events[0];
    expect(pm('HardBounce')).toMatchObject({ kind: 'bounced', bounceType: 'hard' });
    expect(pm('Transient')).toMatchObject({ kind: 'bounced', bounceType: 'soft' });
    expect(pm('SpamComplaint')).toMatchObject({ kind: 'complained' });
    expect(pm('AutoResponder')).toBeUndefined();
    const ses = (bounceType: string) =>
      parseSesNotification({
        Type: 'Notification',
        MessageId: 'sns-1',
        Message: JSON.stringify({
          notificationType: 'Bounce',
          mail: { timestamp: new Date().toISOString() },
          bounce: { bounceType, timestamp: new Date().toISOString() },
        }),
      } as SnsMessage).events[0]!;
    expect([
      ses('Permanent').bounceType,
      ses('Transient').bounceType,
      ses('Undetermined').bounceType,
    ]).toEqual(['hard', 'soft', 'soft']);
    expect(ses('Permanent').sourceEventId).toBe('sns-1');
  });

  it('checks SendGrid’s signature over timestamp and raw body, and its age', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const settings = {
      provider: 'sendgrid' as const,
      public_key: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    };
    const body = '[{"event":"delivered"}]';
    const ts = '1795000000';
    const headers = (signature: string, timestamp = ts) => ({
      'x-twilio-email-event-webhook-signature': signature,
      'x-twilio-email-event-webhook-timestamp': timestamp,
    });
    const good = sign('sha256', Buffer.from(ts + body), privateKey).toString('base64');
    expect(() => verifySendgrid(body, headers(good), settings, 1795000000_000, 300)).not.toThrow();
    expect(() => verifySendgrid(`${body} `, headers(good), settings, 1795000000_000, 300)).toThrow(
      ProviderSignatureError,
    );
    expect(() => verifySendgrid(body, headers('bm9wZQ=='), settings, 1795000000_000, 300)).toThrow(
      ProviderSignatureError,
    );
    expect(() => verifySendgrid(body, headers(good), settings, 1795000301_000, 300)).toThrow(/too old/);
  });

  it('compares Postmark’s Basic credentials, both parts', () => {
    const settings = { provider: 'postmark' as const, username: 'hook', password: 'p'.repeat(20) };
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    expect(() => verifyPostmark(basic(`hook:${'p'.repeat(20)}`), settings)).not.toThrow();
    expect(() => verifyPostmark(basic(`hook:${'p'.repeat(19)}`), settings)).toThrow(ProviderSignatureError);
    expect(() => verifyPostmark(basic(`other:${'p'.repeat(20)}`), settings)).toThrow(ProviderSignatureError);
    expect(() => verifyPostmark(undefined, settings)).toThrow(ProviderSignatureError);
    expect(() => verifyPostmark(`Bearer ${'p'.repeat(20)}`, settings)).toThrow(ProviderSignatureError);
  });
});
