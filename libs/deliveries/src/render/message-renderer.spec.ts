import { TemplateError } from '../template';
import { MessageRenderer, type RenderRequest } from './message-renderer';

const contact = {
  id: '0190f0a0-0000-7000-8000-000000000001',
  email: 'ada@example.test',
  firstName: 'Ada',
  lastName: null,
  externalRef: 'crm-42',
  attributes: { company: 'Analytical <Engines>', seats: 3 },
};
const sender = { id: '0190f0a0-0000-7000-8000-0000000000aa', channel: 'smtp' };
const request = (content: RenderRequest['content'], step = 0): RenderRequest => ({
  step,
  content,
  contact,
  sender,
});

describe('MessageRenderer', () => {
  const renderer = new MessageRenderer();

  it('renders subject and body with the contact fields and attributes', () => {
    expect(
      renderer.render(
        request({
          subject: 'Hi {{ first_name }} ({{ external_ref }})',
          body: 'For {{ attributes.company }}: {{ attributes.seats }} seats, {{ last_name | "friend" }}. {{ email }}',
        }),
      ),
    ).toMatchObject({
      subject: 'Hi Ada (crm-42)',
      body: 'For Analytical <Engines>: 3 seats, friend. ada@example.test',
    });
  });

  it('escapes substituted values in an HTML body, never in the subject', () => {
    const rendered = renderer.render(
      request({ subject: '{{ attributes.company }}', body: '<p>{{ attributes.company }}</p>', html: true }),
    );
    expect(rendered).toMatchObject({ subject: 'Analytical <Engines>', body: 'Analytical <Engines>' });
    expect(rendered.html).toContain('<p>Analytical &lt;Engines&gt;</p>');
  });

  it('has no subject when the step has none', () => {
    expect(renderer.render(request({ body: 'Hello' }))).toMatchObject({ subject: null, body: 'Hello' });
  });

  it('keeps a subject to one header line', () => {
    expect(renderer.render(request({ subject: 'A\r\nBcc: x@example.test', body: '.' })).subject).toBe(
      'A Bcc: x@example.test',
    );
  });

  it('throws TemplateError for a variable with no value and no fallback, in the subject or the body', () => {
    expect(() => renderer.render(request({ subject: 'Dear {{ last_name }}', body: 'x' }))).toThrow(
      new TemplateError('template variable "last_name" has no value and no fallback'),
    );
    expect(() => renderer.render(request({ body: '{{ attributes.missing }}' }))).toThrow(TemplateError);
  });

  it('throws TemplateError naming the step when the campaign has no such step', () => {
    expect(() => renderer.render(request(undefined, 2))).toThrow(new TemplateError('campaign has no step 2'));
    expect(() => renderer.render(request(null))).toThrow(new TemplateError('campaign has no step 0'));
  });

  it('previews each part on its own, with the error the send would fail on', () => {
    expect(
      renderer.preview(request({ subject: 'News for {{ email }}', body: 'Hi {{ last_name }}' })),
    ).toEqual({
      subject: 'News for ada@example.test',
      body: null,
      error: 'template variable "last_name" has no value and no fallback',
    });
    expect(renderer.preview(request({ subject: '{{ nope }}', body: 'Hi {{ first_name }}' }))).toEqual({
      subject: null,
      body: 'Hi Ada',
      error: 'template variable "nope" has no value and no fallback',
    });
    expect(renderer.preview(request(undefined))).toEqual({
      subject: null,
      body: null,
      error: 'campaign has no step 0',
    });
  });

  it('previews exactly what render returns when the message renders', () => {
    const content = { subject: 'Hi {{ first_name }}', body: '<b>{{ attributes.company }}</b>', html: true };
    const { subject, body, error } = renderer.preview(request(content));
    expect(error).toBeNull();
    expect({ subject, body }).toEqual({
      subject: renderer.render(request(content)).subject,
      body: renderer.render(request(content)).body,
    });
  });

  it('builds the message the channel gets: the delivery ids, the contact and the rendered text', () => {
    const envelope = {
      deliveryId: '0190f0a0-0000-7000-8000-0000000000d1',
      campaignId: '0190f0a0-0000-7000-8000-0000000000c1',
      runId: null,
    };
    expect(renderer.message(envelope, request({ subject: 'Hi {{ first_name }}', body: 'Body' }))).toEqual({
      ...envelope,
      contact: {
        id: contact.id,
        email: contact.email,
        firstName: 'Ada',
        lastName: null,
        externalRef: 'crm-42',
      },
      subject: 'Hi Ada',
      body: 'Body',
      html: expect.stringContaining('<p>Body</p>') as string,
      headers: {},
    });
  });
});
