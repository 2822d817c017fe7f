import { pageFacts } from './page-facts';

describe('pageFacts', () => {
  it('reads title, description, viewport, generator, and contacts from links and text', () => {
    const facts = pageFacts(`<html><head><title> Joe's Plumbing </title>
      <meta name="Description" content="Pipes fixed fast"><meta name="viewport" content="width=device-width">
      </head><body><a href="mailto:Joe@Plumb.example?subject=hi">mail</a> or jo.e+x@plumb.example,
      call <a href="tel:+1-555-0100">us</a> or (555) 010-0199<script>var x = "no@script.example"</script>
      <img src="/wp-content/uploads/a.png"></body></html>`);
    expect(facts).toEqual({
      title: "Joe's Plumbing",
      description: 'Pipes fixed fast',
      viewport: true,
      generator: 'WordPress',
      emails: ['joe@plumb.example', 'jo.e+x@plumb.example'],
      phones: ['+15550100', '5550100199'],
    });
  });

  it('finds nothing on a bare page', () => {
    expect(pageFacts('<p>hello</p>')).toEqual({
      title: null,
      description: null,
      viewport: false,
      generator: null,
      emails: [],
      phones: [],
    });
  });

  // Unbounded patterns took 40 s on 64 KiB of "x" (quadratic backtracking); bounded ones take milliseconds.
  it('reads a hostile page of long runs in linear time', () => {
    const started = performance.now();
    const facts = pageFacts(
      `<body>${'x'.repeat(200_000)}${'1'.repeat(200_000)}${'a.'.repeat(50_000)}</body>`,
    );
    expect(facts.emails).toEqual([]);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
