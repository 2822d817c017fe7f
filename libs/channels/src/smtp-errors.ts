import { PermanentChannelError, TransientChannelError, type ChannelError } from './channel-errors';

/**
 * What went wrong with the connection itself, recorded instead of anything the server said:
 * its banner and replies are its own text, and a hostile server could put anything there.
 */
export const SMTP_CONNECTION_FAILURES = [
  'refused',
  'unreachable',
  'timeout',
  'tls',
  'greeting',
  'closed',
  'protocol',
  'dns',
] as const;
export type SmtpConnectionFailure = (typeof SMTP_CONNECTION_FAILURES)[number];

/** Whether a ChannelError code is a connection-level SMTP failure (not a reply to a command). */
export function isConnectionFailure(code: string): code is SmtpConnectionFailure {
  return (SMTP_CONNECTION_FAILURES as readonly string[]).includes(code);
}

/** The shape of a nodemailer error, every field untrusted. */
interface NodemailerError {
  readonly code?: unknown;
  readonly originalCode?: unknown;
  readonly responseCode?: unknown;
  readonly response?: unknown;
  readonly command?: unknown;
  readonly timeoutType?: unknown;
  readonly message?: unknown;
}

/** The commands nodemailer names on a failure; anything else is not repeated. */
const COMMANDS = new Set([
  'MAIL FROM',
  'RCPT TO',
  'DATA',
  'EHLO',
  'HELO',
  'LHLO',
  'STARTTLS',
  'AUTH PLAIN',
  'AUTH LOGIN',
  'AUTH CRAM-MD5',
  'AUTH XOAUTH2',
]);
const TIMEOUT_PHASES: Record<string, string> = {
  CONNECT_TIMEOUT: 'connect',
  GREETING_TIMEOUT: 'greeting',
  UPGRADE_TIMEOUT: 'starttls',
  SOCKET_TIMEOUT: 'socket',
};
const SOCKET_FAILURES: Record<string, SmtpConnectionFailure> = {
  ECONNREFUSED: 'refused',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
  ECONNRESET: 'closed',
  EPIPE: 'closed',
  ETIMEDOUT: 'timeout',
};

/** A code Node, OpenSSL or nodemailer set locally (never the server's words), or undefined. */
function localCode(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(value) ? value : undefined;
}

function isTlsCode(code: string | undefined): boolean {
  return (
    !!code && /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/.test(code)
  );
}

function connectionFailure(e: NodemailerError): SmtpConnectionFailure | undefined {
  const code = localCode(e.code);
  const original = localCode(e.originalCode);
  if (code === undefined) return undefined;
  switch (code) {
    case 'EDNS':
      return 'dns';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ETLS':
      return 'tls';
    case 'EPROTOCOL':
      // nodemailer's own prefix, before the server's text it appends.
      return typeof e.message === 'string' && e.message.startsWith('Invalid greeting')
        ? 'greeting'
        : 'protocol';
    case 'ECONNECTION':
    case 'ESOCKET':
      if (isTlsCode(original)) return 'tls';
      return (original === undefined ? undefined : SOCKET_FAILURES[original]) ?? 'closed';
    default:
      return isTlsCode(code) ? 'tls' : SOCKET_FAILURES[code];
  }
}

/**
 * nodemailer's error as a ChannelError whose message is safe to record: a category, reply
 * code, enhanced status code, command name and local error codes, never the server's text.
 * 4xx replies and connection trouble are transient; 5xx replies are permanent (DESIGN §9).
 * The nodemailer error is not kept as the cause: its message and `response` carry what the
 * server said.
 */
export function classifySmtpError(error: unknown): ChannelError {
  const e = (error ?? {}) as NodemailerError;
  const reply =
    typeof e.responseCode === 'number' && e.responseCode >= 200 && e.responseCode < 600
      ? Math.trunc(e.responseCode)
      : undefined;
  const permanentReply = reply !== undefined && reply >= 500;
  const connection = connectionFailure(e);
  if (connection) {
    const phase = typeof e.timeoutType === 'string' ? TIMEOUT_PHASES[e.timeoutType] : undefined;
    const details = [reply, phase, localCode(e.originalCode)].filter((d) => d !== undefined);
    const message = `smtp connection failed: ${connection}${details.length ? ` (${details.join(', ')})` : ''}`;
    // A server that greets with a 5xx refuses service outright: asking again will not help.
    return connection === 'greeting' && permanentReply
      ? new PermanentChannelError(message, connection)
      : new TransientChannelError(message, connection);
  }
  if (reply !== undefined && reply >= 400) {
    const status =
      typeof e.response === 'string' ? /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(e.response) : null;
    const command = typeof e.command === 'string' && COMMANDS.has(e.command) ? ` at ${e.command}` : '';
    const message = `smtp ${reply}${status?.[1] ? ` ${status[1]}` : ''}${command}`;
    return permanentReply
      ? new PermanentChannelError(message, `smtp_${reply}`)
      : new TransientChannelError(message, `smtp_${reply}`);
  }
  const code = localCode(e.code);
  if (code === 'EENVELOPE') return new PermanentChannelError('smtp rejected the envelope', 'eenvelope');
  if (code === 'EMESSAGE') return new PermanentChannelError('smtp could not send the message', 'emessage');
  // Anything unrecognised: a bounded retry is the safe answer.
  return new TransientChannelError(`smtp failed${code ? ` (${code})` : ''}`, 'smtp_error');
}
