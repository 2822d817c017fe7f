import { escapeHtml } from '../template';

/** Where a tenant layout puts the message; `{{{footer}}}` is optional (after the content when absent). */
export const LAYOUT_CONTENT_SLOT = '{{{content}}}';
export const LAYOUT_FOOTER_SLOT = '{{{footer}}}';

/** The layout of a tenant that has none: a plain, readable document. */
export const DEFAULT_LAYOUT = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body style="margin:0;padding:24px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1f2328;">
<div style="max-width:640px;margin:0 auto;">
${LAYOUT_CONTENT_SLOT}
${LAYOUT_FOOTER_SLOT}
</div>
</body>
</html>
`;

/** What a layout must hold: the content slot, exactly once (a problem message otherwise). */
export function layoutProblems(layout: string): string[] {
  const slots = layout.split(LAYOUT_CONTENT_SLOT).length - 1;
  if (slots === 0) return [`must contain the ${LAYOUT_CONTENT_SLOT} slot`];
  if (slots > 1) return [`must contain the ${LAYOUT_CONTENT_SLOT} slot once`];
  if (layout.split(LAYOUT_FOOTER_SLOT).length > 2) return [`may contain the ${LAYOUT_FOOTER_SLOT} slot once`];
  return [];
}

/** The footer every email carries: the sender's postal address and how to unsubscribe. */
export interface Footer {
  postalAddress: string | null;
  unsubscribeUrl: string | null;
}

export function footerHtml({ postalAddress, unsubscribeUrl }: Footer): string {
  if (!postalAddress && !unsubscribeUrl) return '';
  const lines: string[] = [];
  if (postalAddress) lines.push(`<p>${escapeHtml(postalAddress).replace(/\r?\n/g, '<br>')}</p>`);
  if (unsubscribeUrl) {
    lines.push(`<p>Don’t want these emails? <a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a>.</p>`);
  }
  return `<div class="herald-footer" style="margin-top:32px;font-size:13px;color:#59636e;">\n${lines.join('\n')}\n</div>`;
}

export function footerText({ postalAddress, unsubscribeUrl }: Footer): string {
  const lines: string[] = [];
  if (postalAddress) lines.push(postalAddress);
  if (unsubscribeUrl) lines.push(`Unsubscribe: ${unsubscribeUrl}`);
  return lines.length === 0 ? '' : `\n\n-- \n${lines.join('\n')}\n`;
}

/** The content and footer in the layout (split and join: a `$` in the content stays literal). */
export function applyLayout(layout: string | null | undefined, content: string, footer: string): string {
  const frame = layout ?? DEFAULT_LAYOUT;
  const withFooter = frame.includes(LAYOUT_FOOTER_SLOT)
    ? frame.split(LAYOUT_FOOTER_SLOT).join(footer)
    : frame.split(LAYOUT_CONTENT_SLOT).join(`${LAYOUT_CONTENT_SLOT}\n${footer}`);
  return withFooter.split(LAYOUT_CONTENT_SLOT).join(content);
}
