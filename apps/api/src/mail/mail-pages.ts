import type { Response } from 'express';
import { escapeHtml } from '@herald/deliveries';

/**
 * The hosted pages recipients see: small, accessible HTML that works without JavaScript. Not
 * cached (the link is personal), never framed, and the token in the address is not sent on as
 * a referrer.
 */
export function sendPage(res: Response, status: number, title: string, body: string): void {
  res.status(status).set({
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  }).send(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>
body{margin:0;font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;font-size:1rem;line-height:1.5;color:#1f2328;background:#f6f8fa}
main{max-width:32rem;margin:4rem auto;padding:2rem;background:#fff;border:1px solid #d1d9e0;border-radius:8px}
h1{font-size:1.5rem;margin-top:0}
button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#0969da;color:#fff;cursor:pointer}
button:focus-visible{outline:3px solid #1f2328;outline-offset:2px}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`);
}

export function confirmPage(res: Response, action: string, email: string | null): void {
  const who = email ? `<strong>${escapeHtml(email)}</strong>` : 'this address';
  sendPage(
    res,
    200,
    'Unsubscribe',
    `<p>Stop sending emails to ${who}?</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button>
</form>`,
  );
}

export function donePage(res: Response): void {
  sendPage(
    res,
    200,
    'You are unsubscribed',
    '<p role="status">You will not receive these emails any more.</p>',
  );
}

export function notFoundPage(res: Response): void {
  sendPage(
    res,
    404,
    'Link not valid',
    '<p>This unsubscribe link is not valid: it may be incomplete. Use the link from the email as it is, or reply to the email to ask to be removed.</p>',
  );
}
