import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Node's parser errors for requests that never reach the app, by the status they deserve. */
const STATUS_BY_CODE: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request line or headers are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request did not arrive in time.'],
  ERR_HTTP_HEADERS_TIMEOUT: [408, 'Request Timeout', 'The request headers did not arrive in time.'],
};

/**
 * Requests Node's HTTP parser refuses (headers or a query string past its limit, a malformed
 * request line) never reach Express: without this they get a bare status line. They get the
 * same problem+json shape as every other error instead.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, title, detail] = STATUS_BY_CODE[error.code ?? ''] ?? [
      400,
      'Bad Request',
      'The request could not be read.',
    ];
    const kind =
      status === 400 ? 'malformed-request' : status === 408 ? 'request-timeout' : 'headers-too-large';
    const body = JSON.stringify({ type: `https://herald.dev/problems/${kind}`, title, status, detail });
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
