/**
 * Message templates: `{{ first_name }}`, `{{ attributes.company }}`, with a fallback
 * `{{ first_name | "there" }}`. Values are HTML-escaped when the body is HTML. A variable
 * with no value and no fallback is an error (a permanent one for the delivery): a greeting
 * that says "Hello ," is worse than none.
 */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export type TemplateVariables = Readonly<Record<string, unknown>>;

const TAG = /\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z0-9_-]+)*)\s*(?:\|\s*"((?:[^"\\]|\\.)*)"\s*)?\}\}/g;
const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

function lookup(variables: TemplateVariables, path: string): unknown {
  let value: unknown = variables;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, part))
      return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Renders `template`; `html` escapes every substituted value (never the template itself). */
export function renderTemplate(
  template: string,
  variables: TemplateVariables,
  options: { html: boolean },
): string {
  return template.replace(TAG, (_tag, path: string, fallback: string | undefined) => {
    const value = lookup(variables, path);
    let text: string;
    if (value === undefined || value === null || value === '') {
      if (fallback === undefined)
        throw new TemplateError(`template variable "${path}" has no value and no fallback`);
      text = fallback.replace(/\\(.)/g, '$1');
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      text = String(value);
    } else {
      throw new TemplateError(`template variable "${path}" is not a text value`);
    }
    return options.html ? escapeHtml(text) : text;
  });
}

/** The template with each tag replaced by what `replace` returns for the tag as written. */
export function mapTags(template: string, replace: (tag: string) => string): string {
  return template.replace(TAG, (tag: string) => replace(tag));
}

/** A subject is a mail header: one line, bounded. */
export function renderSubject(template: string, variables: TemplateVariables): string {
  return renderTemplate(template, variables, { html: false })
    .replace(/[\r\n]+/g, ' ')
    .slice(0, 998);
}

/** Checks a template's syntax without variables: every `{{` must open a well-formed tag. */
export function templateProblems(template: string): string[] {
  const stripped = template.replace(TAG, '');
  return stripped.includes('{{') || stripped.includes('}}') ? ['has a malformed {{ tag }}'] : [];
}
