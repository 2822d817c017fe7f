import { renderSubject, renderTemplate, TemplateError, templateProblems } from './template';

describe('renderTemplate', () => {
  const vars = {
    first_name: 'Ada',
    last_name: null,
    attributes: { company: 'Acme <Labs> & "Co"', seats: 3 },
  };

  it('substitutes variables, nested attributes and fallbacks', () => {
    expect(
      renderTemplate('Hi {{ first_name }} from {{attributes.company}} ({{ attributes.seats }})', vars, {
        html: false,
      }),
    ).toBe('Hi Ada from Acme <Labs> & "Co" (3)');
    expect(renderTemplate('Dear {{ last_name | "friend" }}', vars, { html: false })).toBe('Dear friend');
    expect(renderTemplate('{{ nick | "say \\"hi\\"" }}', vars, { html: false })).toBe('say "hi"');
  });

  it('escapes substituted values in HTML bodies, never the template', () => {
    expect(renderTemplate('<p>{{ attributes.company }}</p>', vars, { html: true })).toBe(
      '<p>Acme &lt;Labs&gt; &amp; &quot;Co&quot;</p>',
    );
    expect(
      renderTemplate('<p>{{ first_name }}</p>', { first_name: '<script>x</script>' }, { html: true }),
    ).toBe('<p>&lt;script&gt;x&lt;/script&gt;</p>');
  });

  it('refuses a missing variable without a fallback, and non-text values', () => {
    expect(() => renderTemplate('Hi {{ last_name }}', vars, { html: false })).toThrow(
      new TemplateError('template variable "last_name" has no value and no fallback'),
    );
    expect(() => renderTemplate('{{ attributes }}', vars, { html: false })).toThrow(TemplateError);
    expect(() => renderTemplate('{{ constructor }}', vars, { html: false })).toThrow(TemplateError);
  });

  it('keeps subjects on one line', () => {
    expect(renderSubject('Hello {{ first_name }}', { first_name: 'A\r\nBcc: x@example.com' })).toBe(
      'Hello A Bcc: x@example.com',
    );
  });

  it('reports malformed tags', () => {
    expect(templateProblems('Hi {{ first_name }}')).toEqual([]);
    expect(templateProblems('Hi {{ first name }}')).toEqual(['has a malformed {{ tag }}']);
    expect(templateProblems('Hi {{ first_name }')).toEqual(['has a malformed {{ tag }}']);
  });
});
