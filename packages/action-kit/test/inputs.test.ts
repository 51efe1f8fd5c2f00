import { describe, expect, it } from '@jest/globals';
import { InputError, InputReader, splitList } from '../src/index.js';

const reader = (values: Record<string, string>) => new InputReader((name) => values[name]);

describe('InputReader', () => {
  it('reads strings, booleans, choices, numbers, lists and KEY=value lines', () => {
    const r = reader({ a: ' x ', b: 'TRUE', c: 'blue', n: '12', l: 'a, b\n# note\nc,"d,e"', kv: 'A=1\nB = two=2\n' });
    expect(r.string('a')).toBe('x');
    expect(r.string('missing', { default: 'd' })).toBe('d');
    expect(r.boolean('b', false)).toBe(true);
    expect(r.boolean('missing', true)).toBe(true);
    expect(r.oneOf('c', ['blue', 'green'] as const, 'green')).toBe('blue');
    expect(r.positiveInt('n', 3)).toBe(12);
    expect(r.list('l')).toEqual(['a', 'b', 'c', 'd,e']);
    expect([...r.keyValues('kv')]).toEqual([
      ['A', '1'],
      ['B', ' two=2'],
    ]);
    expect(() => r.done()).not.toThrow();
  });

  it('collects every problem, each naming its input and the fix', () => {
    const r = reader({ b: 'yes', c: 'red', n: '-1', kv: 'novalue' });
    r.string('req', { required: true });
    r.boolean('b', false);
    r.oneOf('c', ['blue', 'green'] as const, 'blue');
    r.positiveInt('n', 3);
    r.keyValues('kv');
    let error: InputError | undefined;
    try {
      r.done();
    } catch (e) {
      error = e as InputError;
    }
    expect(error).toBeInstanceOf(InputError);
    expect(error!.problems.map((p) => p.input)).toEqual(['req', 'b', 'c', 'n', 'kv']);
    expect(error!.message).toMatch(/^5 inputs are invalid/);
    expect(error!.message).toContain("input 'b': 'yes' is not a boolean. Fix: use true or false");
    for (const p of error!.problems) expect(p.fix).not.toBe('');
  });

  it('does not echo a long value of a bad KEY=value line (it may be a secret)', () => {
    const r = reader({ kv: 'this-is-a-very-long-secret-token-value' });
    r.keyValues('kv');
    expect(() => r.done()).toThrow(/this-is-a-ve…/);
    expect(() => r.done()).not.toThrow(/secret-token-value/);
  });

  it('reads INPUT_* variables as the runner sets them', () => {
    process.env['INPUT_BUILD-ARGS'] = 'X=1'; // the runner keeps hyphens
    process.env['INPUT_WITH SPACE'.replace(/ /g, '_')] = 'y';
    const r = new InputReader();
    expect(r.raw('build-args')).toBe('X=1');
    expect(r.raw('with space')).toBe('y');
  });

  it('splitList keeps commas on newline-only lists', () => {
    expect(splitList('type=ref,event=branch\n\ntype=sha', 'newline')).toEqual(['type=ref,event=branch', 'type=sha']);
  });

  it('durations: seconds by default, ms/s/m/h suffixes; whole seconds round up', () => {
    const r = reader({ a: '90', b: '500ms', c: '2m', d: '1h', e: '1500ms', bad: '5 minutes', zero: '0s' });
    expect([r.durationMs('a', 0), r.durationMs('b', 0), r.durationMs('c', 0), r.durationMs('d', 0)]).toEqual([
      90_000, 500, 120_000, 3_600_000,
    ]);
    expect(r.durationSeconds('e', 0)).toBe(2);
    expect(r.durationMs('missing', 1234)).toBe(1234);
    expect(r.durationMs('bad', 7)).toBe(7);
    r.durationSeconds('zero', 1);
    expect(() => r.done()).toThrow(
      /input 'bad': '5 minutes' is not a duration\. Fix: use seconds \(90\), or 500ms, 90s, 5m, 1h[\s\S]*input 'zero'/,
    );
  });
});
