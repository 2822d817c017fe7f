import { convert } from 'html-to-text';
import { Marked } from 'marked';
import { randomBytes } from 'node:crypto';
import { escapeHtml, mapTags, renderTemplate, type TemplateVariables } from '../template';
import type { MessageContent, MessageFormat } from './message-content';

/** A step's body rendered for one contact: the HTML of its content, and the text part. */
export interface MailBody {
  html: string;
  text: string;
}

const markdown = new Marked({ gfm: true, breaks: false, async: false });

export function formatOf(content: MessageContent): MessageFormat {
  return content.format ?? (content.html === true ? 'html' : 'text');
}

/**
 * Renders the body in its format. Contact values are always escaped in the HTML: an HTML body
 * substitutes escaped values; Markdown is rendered with a placeholder per tag and the escaped
 * values are put in afterwards, so a value can never become markup (neither HTML nor
 * Markdown). Plain text stays the text part as written, its HTML a transcript of it. The text
 * of HTML and Markdown bodies is derived from their HTML (html-to-text). Throws TemplateError.
 */
export function renderBody(content: MessageContent, variables: TemplateVariables): MailBody {
  switch (formatOf(content)) {
    case 'text': {
      const text = renderTemplate(content.body, variables, { html: false });
      return { text, html: textToHtml(text) };
    }
    case 'html': {
      const html = renderTemplate(content.body, variables, { html: true });
      return { html, text: htmlToText(html) };
    }
    case 'markdown': {
      const html = renderMarkdown(content.body, variables);
      return { html, text: htmlToText(html) };
    }
  }
}

function renderMarkdown(template: string, variables: TemplateVariables): string {
  // A nonce per render: a template that happens to contain the placeholder text cannot inject one.
  const nonce = randomBytes(6).toString('hex');
  const values: string[] = [];
  const source = mapTags(template, (tag) => {
    values.push(renderTemplate(tag, variables, { html: true }));
    return `HERALDTAG${nonce}N${values.length - 1}X`;
  });
  const html = markdown.parse(source, { async: false });
  return html.replace(
    new RegExp(`HERALDTAG${nonce}N(\\d+)X`, 'g'),
    (_m, i: string) => values[Number(i)] ?? '',
  );
}

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)'\]]/g;

/** Plain text as HTML: escaped, paragraphs and line breaks kept, web addresses made links. */
export function textToHtml(text: string): string {
  return text
    .split(/\r?\n(?:[ \t]*\r?\n)+/)
    .filter((paragraph) => paragraph.trim() !== '')
    .map((paragraph) => {
      const escaped = escapeHtml(paragraph).replace(URL_IN_TEXT, (url) => `<a href="${url}">${url}</a>`);
      return `<p>${escaped.replace(/\r?\n/g, '<br>\n')}</p>`;
    })
    .join('\n');
}

/** The text part of an HTML body: links written out after their text, images left out. */
export function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: 78,
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
    ],
  });
}
