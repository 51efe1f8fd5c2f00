// Secret settings as repository secrets carry them: dotenv lines, each malformed one named by number only.
import { describe, expect, it } from '@jest/globals';
import { parseDotenv } from '../src/dotenv.js';

describe('parseDotenv', () => {
  it('reads bare, quoted and exported values, skipping comments and blank lines', () => {
    const { entries, problems } = parseDotenv(
      [
        '# production settings',
        '',
        'DATABASE_URL=postgres://u:p@db/shop',
        'export REDIS_URL = redis://cache:6379/0',
        "SINGLE='kept as is: \\n $HOME'",
        'DOUBLE="line one\\nline two \\"quoted\\""',
        'BARE=value # a comment',
        'HASH=abc#def',
        'EMPTY=',
        'dotted.key-name=1',
      ].join('\n'),
    );
    expect(problems).toEqual([]);
    expect(Object.fromEntries(entries)).toEqual({
      DATABASE_URL: 'postgres://u:p@db/shop',
      REDIS_URL: 'redis://cache:6379/0',
      SINGLE: 'kept as is: \\n $HOME',
      DOUBLE: 'line one\nline two "quoted"',
      BARE: 'value',
      HASH: 'abc#def',
      EMPTY: '',
      'dotted.key-name': '1',
    });
  });

  it('a double-quoted value may span lines (a PEM key)', () => {
    const { entries } = parseDotenv('KEY="-----BEGIN KEY-----\nabc\n-----END KEY-----"\nNEXT=1');
    expect(entries.get('KEY')).toBe('-----BEGIN KEY-----\nabc\n-----END KEY-----');
    expect(entries.get('NEXT')).toBe('1');
  });

  it('names each malformed line by number, never by its value', () => {
    const { problems } = parseDotenv(
      ['GOOD=1', 'hunter2-without-a-key', '=no-key', 'BAD KEY=x', 'OPEN="never closed', 'TWICE=a'].join('\n'),
    );
    expect(problems).toEqual([
      'line 2 is not KEY=value',
      'line 3 is not KEY=value',
      "line 4: key 'BAD KEY' has characters a Secret key cannot (letters, digits, -, _ and . only)",
      'line 5: the value of OPEN opens a " that never closes',
    ]);
    expect(problems.join('\n')).not.toContain('hunter2');
    expect(parseDotenv("A=1\nA=2\nB='x").problems).toEqual([
      'line 2: A is set twice',
      "line 3: the value of B opens a ' that never closes",
    ]);
  });
});
