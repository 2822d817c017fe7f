import { CliError, EXIT } from './exit-codes';
import { fields, Output, table, type TextSink } from './output';

class Sink implements TextSink {
  text = '';
  constructor(readonly isTTY = false) {}
  write(text: string): boolean {
    this.text += text;
    return true;
  }
}

describe('table', () => {
  it('aligns columns, right-aligns numbers, upper-cases headers and shows empty cells as -', () => {
    expect(
      table(
        ['queue', 'waiting', 'paused'],
        [
          ['system', 0, 'no'],
          ['deliveries', 1200, null],
        ],
      ),
    ).toBe(['QUEUE       WAITING  PAUSED', 'system            0  no', 'deliveries     1200  -'].join('\n'));
  });

  it('keeps a column of mixed values left-aligned', () => {
    expect(
      table(
        ['id', 'value'],
        [
          ['a', 1],
          ['b', 'x'],
        ],
      ),
    ).toBe('ID  VALUE\na   1\nb   x');
  });

  it('prints the headers of an empty table', () => {
    expect(table(['id', 'name'], [])).toBe('ID  NAME');
  });
});

describe('fields', () => {
  it('aligns labels', () => {
    expect(
      fields([
        ['run', 'abc'],
        ['targeted', 500],
        ['finished', null],
      ]),
    ).toBe('run       abc\ntargeted  500\nfinished  -');
  });
});

describe('Output', () => {
  it('prints the human rendering, or one JSON document with --json', () => {
    const human = { stdout: new Sink(), stderr: new Sink() };
    new Output(false, human).result({ a: 1 }, () => 'a is 1');
    expect(human.stdout.text).toBe('a is 1\n');

    const json = { stdout: new Sink(), stderr: new Sink() };
    new Output(true, json).result({ a: 1 }, () => 'a is 1');
    expect(JSON.parse(json.stdout.text)).toEqual({ a: 1 });
    expect(json.stderr.text).toBe('');
  });

  it('writes errors to stderr, and also as a JSON document on stdout with --json', () => {
    const error = new CliError(EXIT.usage, 'Validation failed', [
      { field: 'name', message: 'must not be empty' },
    ]);
    const human = { stdout: new Sink(), stderr: new Sink() };
    new Output(false, human).error(error);
    expect(human.stderr.text).toBe('herald: Validation failed\n  name: must not be empty\n');
    expect(human.stdout.text).toBe('');

    const json = { stdout: new Sink(), stderr: new Sink() };
    new Output(true, json).error(error);
    expect(JSON.parse(json.stdout.text)).toEqual({
      error: {
        exit_code: 2,
        message: 'Validation failed',
        errors: [{ field: 'name', message: 'must not be empty' }],
      },
    });
  });

  it('notes go to stderr, never to the result', () => {
    const io = { stdout: new Sink(), stderr: new Sink(true) };
    const out = new Output(true, io);
    out.note('the key is shown this once');
    expect(io.stdout.text).toBe('');
    expect(io.stderr.text).toBe('the key is shown this once\n');
    expect(out.interactive).toBe(true);
  });
});
