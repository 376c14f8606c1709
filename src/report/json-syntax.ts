/**
 * Where JSON text stops being JSON, for error messages: Node 20's JSON.parse says what it
 * found but not where. A small iterative scanner (no recursion, so any nesting depth is safe)
 * walks the grammar of RFC 8259 and reports the first offending character with its line and
 * column, or that the text ended while a value was still open (a truncated file). Run only
 * after JSON.parse failed, so it is never on a hot path.
 */

/** The first JSON syntax error in a text. */
export interface JsonSyntaxError {
  /** Offset of the offending character (the text's length when it ended early). */
  readonly offset: number;
  /** 1-based line and column (in UTF-16 code units) of `offset`. */
  readonly line: number;
  readonly column: number;
  /** True when the text ended inside a value: an object, array or string left open. */
  readonly atEnd: boolean;
  /** What was wrong, in one line, e.g. `unexpected 'h' (expected a value)`. */
  readonly reason: string;
}

type State = 'value' | 'value-or-end' | 'key' | 'key-or-end' | 'colon' | 'comma-or-end' | 'done';

/** The first syntax error of `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const containers: ('object' | 'array')[] = [];
  let state: State = 'value';
  let i = 0;
  const n = text.length;
  const fail = (offset: number, reason: string, atEnd = false): JsonSyntaxError => {
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    return { offset, line, column, atEnd, reason };
  };
  const unexpected = (offset: number, expected: string): JsonSyntaxError =>
    offset >= n
      ? fail(n, `the text ends early (expected ${expected})`, true)
      : fail(offset, `unexpected ${describeChar(text, offset)} (expected ${expected})`);
  const afterValue = (): State => (containers.length === 0 ? 'done' : 'comma-or-end');

  for (;;) {
    while (i < n && isWhitespace(text.charCodeAt(i))) i++;
    const ch = text[i];
    switch (state) {
      case 'done':
        return i >= n
          ? undefined
          : fail(i, `unexpected ${describeChar(text, i)} after the JSON value`);
      case 'colon':
        if (ch !== ':') return unexpected(i, "':'");
        i++;
        state = 'value';
        continue;
      case 'comma-or-end': {
        const close = containers[containers.length - 1] === 'object' ? '}' : ']';
        if (ch === ',') {
          i++;
          state = close === '}' ? 'key' : 'value';
        } else if (ch === close) {
          i++;
          containers.pop();
          state = afterValue();
        } else {
          return unexpected(i, `',' or '${close}'`);
        }
        continue;
      }
      case 'key':
      case 'key-or-end': {
        if (state === 'key-or-end' && ch === '}') {
          i++;
          containers.pop();
          state = afterValue();
          continue;
        }
        if (ch !== '"') return unexpected(i, state === 'key' ? 'a "key"' : `a "key" or '}'`);
        const end = scanString(text, i);
        if (typeof end !== 'number')
          return end.atEnd ? fail(n, end.reason, true) : fail(end.offset, end.reason);
        i = end;
        state = 'colon';
        continue;
      }
      case 'value':
      case 'value-or-end': {
        if (state === 'value-or-end' && ch === ']') {
          i++;
          containers.pop();
          state = afterValue();
          continue;
        }
        if (ch === '{' || ch === '[') {
          containers.push(ch === '{' ? 'object' : 'array');
          i++;
          state = ch === '{' ? 'key-or-end' : 'value-or-end';
          continue;
        }
        let end: number | { offset: number; reason: string; atEnd: boolean };
        if (ch === '"') end = scanString(text, i);
        else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9'))
          end = scanNumber(text, i);
        else if (ch === 't' || ch === 'f' || ch === 'n') end = scanLiteral(text, i);
        else return unexpected(i, state === 'value' ? 'a value' : "a value or ']'");
        if (typeof end !== 'number')
          return end.atEnd ? fail(n, end.reason, true) : fail(end.offset, end.reason);
        i = end;
        state = afterValue();
        continue;
      }
    }
  }
}

type Scan = number | { offset: number; reason: string; atEnd: boolean };

/** End of the string starting at `start` (a `"`), or what is wrong with it. */
function scanString(text: string, start: number): Scan {
  for (let i = start + 1; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (code < 0x20) {
      return {
        offset: i,
        reason: `unexpected ${describeChar(text, i)} in a string (control characters must be escaped)`,
        atEnd: false,
      };
    }
    if (code === 0x5c) {
      const next = text[i + 1];
      if (next === undefined) break;
      if (next === 'u') {
        if (i + 6 > text.length && /^[0-9A-Fa-f]*$/.test(text.slice(i + 2))) break;
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) {
          return {
            offset: i,
            reason: 'bad \\u escape in a string (expected four hex digits)',
            atEnd: false,
          };
        }
        i += 5;
      } else if ('"\\/bfnrt'.includes(next)) {
        i++;
      } else {
        return { offset: i, reason: `bad escape \\${next} in a string`, atEnd: false };
      }
    }
  }
  return { offset: text.length, reason: 'the text ends inside a string', atEnd: true };
}

/** End of the number starting at `start`, or what is wrong with it. */
function scanNumber(text: string, start: number): Scan {
  const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  m.lastIndex = start;
  const found = m.exec(text);
  const end = found === null ? start : start + found[0].length;
  const next = text[end];
  // A number cut by the end of the text, or followed by what cannot follow it.
  if (found === null || (next !== undefined && /[0-9.eE+-]/.test(next))) {
    const at = found === null ? start + (text[start] === '-' ? 1 : 0) : end;
    if (/^-?$|^-?(?:0|[1-9]\d*)(?:\.\d*)?(?:[eE][+-]?\d*)?$/.test(text.slice(start))) {
      return { offset: text.length, reason: 'the text ends inside a number', atEnd: true };
    }
    return { offset: at, reason: `unexpected ${describeChar(text, at)} in a number`, atEnd: false };
  }
  return end;
}

/** End of `true`, `false` or `null` at `start`, or what is wrong. */
function scanLiteral(text: string, start: number): Scan {
  const word = text[start] === 't' ? 'true' : text[start] === 'f' ? 'false' : 'null';
  for (let k = 0; k < word.length; k++) {
    const i = start + k;
    if (i >= text.length)
      return { offset: text.length, reason: `the text ends inside ${word}`, atEnd: true };
    if (text[i] !== word[k]) {
      return {
        offset: start,
        reason: `unexpected ${describeChar(text, start)} (expected a value; did you mean ${word}?)`,
        atEnd: false,
      };
    }
  }
  return start + word.length;
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** `'h'`, or `U+0007` for what does not print. */
function describeChar(text: string, offset: number): string {
  const code = text.codePointAt(offset)!;
  if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0) || code === 0xfeff) {
    return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `'${String.fromCodePoint(code)}'`;
}
