// The JSON syntax scanner agrees with JSON.parse on what is JSON, says where text stops being
// JSON (line and column), and tells a cut-off file from a corrupt one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError } from '../../../src/report/json-syntax.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('findJsonSyntaxError', () => {
  it('finds nothing wrong in any JSON, compact or indented', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 2), (value, indent) => {
        expect(findJsonSyntaxError(JSON.stringify(value, null, indent))).toBeUndefined();
      }),
    );
  });

  it('finds an error exactly where JSON.parse fails, and calls a cut-off text truncated', () => {
    fc.assert(
      fc.property(
        fc.jsonValue().filter((v) => typeof v === 'object' && v !== null),
        fc.nat(),
        fc.constantFrom('x', '}', ']', ',', ':', '"', '\u0001', '-', '.', 'e', '0'),
        (value, at, junk) => {
          const text = JSON.stringify(value, null, 2);
          const cut = text.slice(0, at % text.length);
          if (!parses(cut)) expect(findJsonSyntaxError(cut)?.atEnd).toBe(true);
          const i = at % text.length;
          const corrupt = text.slice(0, i) + junk + text.slice(i + 1);
          expect(findJsonSyntaxError(corrupt) === undefined).toBe(parses(corrupt));
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    ['hello', 1, 1, "unexpected 'h' (expected a value)"],
    ['{\n  "a": 1,\n  "b": x\n}', 3, 8, "unexpected 'x' (expected a value)"],
    ['[1 2]', 1, 4, "unexpected '2' (expected ',' or ']')"],
    ['{"a" 1}', 1, 6, "unexpected '1' (expected ':')"],
    ['{"a": tru}', 1, 7, "unexpected 't' (expected a value; did you mean true?)"],
    ['01', 1, 2, "unexpected '1' in a number"],
    ['"\\q"', 1, 2, 'bad escape \\q in a string'],
    ['"a\tb"', 1, 3, 'unexpected U+0009 in a string (control characters must be escaped)'],
    ['{}\n{}', 2, 1, "unexpected '{' after the JSON value"],
  ])('locates the error in %j', (text, line, column, reason) => {
    expect(findJsonSyntaxError(text)).toEqual({
      offset: expect.any(Number) as number,
      line,
      column,
      atEnd: false,
      reason,
    });
  });

  it('survives any depth of nesting', () => {
    const deep = '['.repeat(200_000);
    expect(findJsonSyntaxError(deep)).toMatchObject({ atEnd: true });
  });
});
