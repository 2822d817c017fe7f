import { PermanentChannelError, TransientChannelError } from './channel-errors';
import { classifySmtpError } from './smtp-errors';

const HOSTILE = 'token=hunter2 <script>alert(1)</script>';
/** An error shaped like nodemailer's: its message and response carry the server's text. */
const nodemailerError = (fields: Record<string, unknown>) =>
  Object.assign(new Error(`Something failed: ${HOSTILE}`), { response: `554 ${HOSTILE}` }, fields);

describe('classifySmtpError', () => {
  it.each([
    [{ code: 'ESOCKET', originalCode: 'ECONNREFUSED', command: 'CONN' }, 'refused', 'ECONNREFUSED'],
    [{ code: 'ESOCKET', originalCode: 'EHOSTUNREACH', command: 'CONN' }, 'unreachable', 'EHOSTUNREACH'],
    [{ code: 'ESOCKET', originalCode: 'ECONNRESET', command: 'CONN' }, 'closed', 'ECONNRESET'],
    [{ code: 'ECONNECTION', command: 'CONN' }, 'closed', undefined],
    [{ code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT', command: 'CONN' }, 'timeout', 'greeting'],
    [{ code: 'ETLS', command: 'STARTTLS', responseCode: 454 }, 'tls', '454'],
    [
      { code: 'ESOCKET', originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID', command: 'CONN' },
      'tls',
      'ERR_TLS_CERT_ALTNAME_INVALID',
    ],
    [{ code: 'ESOCKET', originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'tls', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
    [
      { code: 'EPROTOCOL', command: 'CONN', message: `Invalid greeting. response=${HOSTILE}` },
      'greeting',
      undefined,
    ],
    [
      { code: 'EPROTOCOL', command: 'HELO', message: `Invalid HELO. response=${HOSTILE}` },
      'protocol',
      undefined,
    ],
    [{ code: 'EDNS', command: 'CONN' }, 'dns', undefined],
  ])('records %j as the connection failure %s, never the server text', (fields, category, detail) => {
    const error = classifySmtpError(nodemailerError(fields));
    expect(error).toBeInstanceOf(TransientChannelError);
    expect(error.code).toBe(category);
    expect(error.message).toMatch(new RegExp(`^smtp connection failed: ${category}\\b`));
    if (detail) expect(error.message).toContain(detail);
    expect(error.message).not.toContain('hunter2');
    expect(error.cause).toBeUndefined();
  });

  it('makes a 5xx greeting permanent and a 4xx greeting transient, still as the category', () => {
    const refused = classifySmtpError(
      nodemailerError({
        code: 'EPROTOCOL',
        command: 'CONN',
        responseCode: 554,
        message: 'Invalid greeting.',
      }),
    );
    expect(refused).toBeInstanceOf(PermanentChannelError);
    expect(refused).toMatchObject({ code: 'greeting', message: 'smtp connection failed: greeting (554)' });
    const busy = classifySmtpError(
      nodemailerError({
        code: 'EPROTOCOL',
        command: 'CONN',
        responseCode: 421,
        message: 'Invalid greeting.',
      }),
    );
    expect(busy).toBeInstanceOf(TransientChannelError);
    expect(busy).toMatchObject({ code: 'greeting' });
  });

  it('records a reply by its code, enhanced status and command: 4xx transient, 5xx permanent', () => {
    const busy = classifySmtpError(
      nodemailerError({
        code: 'EENVELOPE',
        responseCode: 451,
        response: `451 4.3.2 ${HOSTILE}`,
        command: 'RCPT TO',
      }),
    );
    expect(busy).toBeInstanceOf(TransientChannelError);
    expect(busy).toMatchObject({ code: 'smtp_451', message: 'smtp 451 4.3.2 at RCPT TO' });
    const unknown = classifySmtpError(
      nodemailerError({
        code: 'EENVELOPE',
        responseCode: 550,
        response: `550-5.1.1 ${HOSTILE}`,
        command: 'RCPT TO',
      }),
    );
    expect(unknown).toBeInstanceOf(PermanentChannelError);
    expect(unknown).toMatchObject({ code: 'smtp_550', message: 'smtp 550 5.1.1 at RCPT TO' });
    const auth = classifySmtpError(nodemailerError({ code: 'EAUTH', responseCode: 535, command: HOSTILE }));
    expect(auth).toMatchObject({ code: 'smtp_535', message: 'smtp 535' });
  });

  it('records errors without a reply code by their local code only', () => {
    const envelope = classifySmtpError(nodemailerError({ code: 'EENVELOPE' }));
    expect(envelope).toBeInstanceOf(PermanentChannelError);
    expect(envelope).toMatchObject({ code: 'eenvelope', message: 'smtp rejected the envelope' });
    expect(classifySmtpError(nodemailerError({ code: 'EMESSAGE' }))).toBeInstanceOf(PermanentChannelError);
    const odd = classifySmtpError(nodemailerError({ code: 'EAUTH' }));
    expect(odd).toBeInstanceOf(TransientChannelError);
    expect(odd).toMatchObject({ code: 'smtp_error', message: 'smtp failed (EAUTH)' });
    // A code is repeated only when it looks like one: a server cannot smuggle text in through it.
    expect(classifySmtpError(nodemailerError({ code: HOSTILE })).message).toBe('smtp failed');
    expect(classifySmtpError('a string thrown')).toMatchObject({
      code: 'smtp_error',
      message: 'smtp failed',
    });
    expect(classifySmtpError(undefined)).toBeInstanceOf(TransientChannelError);
  });
});
