/**
 * How validation problems read: a zod error map in churn's voice (`must be ≥ 1`, `expected a
 * number, got the string "four"`), used for every issue whose schema gives no message of its
 * own. Unknown keys and union mismatches are rewritten later, where the schema and the
 * document are at hand (see issues.ts).
 */
import type { z } from 'zod';
import { didYouMean } from './did-you-mean.js';

/** The error map scenario validation parses with. */
export const scenarioErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `expected ${typeName(issue.expected)}, got ${describeValue(issue.input)}`;
    case 'too_small':
      return tooSmall(issue.origin, Number(issue.minimum), issue.inclusive !== false);
    case 'too_big':
      return tooBig(issue.origin, Number(issue.maximum), issue.inclusive !== false);
    case 'invalid_value': {
      const values = issue.values.map(String);
      if (values.length === 1) return `must be ${values[0]!}, got ${describeValue(issue.input)}`;
      if (typeof issue.input !== 'string') {
        return `expected one of ${values.join(', ')}, got ${describeValue(issue.input)}`;
      }
      const hint = didYouMean(issue.input, values);
      return `unknown value "${issue.input}"${hint}: use one of ${values.join(', ')}`;
    }
    case 'invalid_format':
      return issue.format === 'regex'
        ? `${describeValue(issue.input)} does not match ${String(issue['pattern'])}`
        : `${describeValue(issue.input)} is not a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_key':
      return 'invalid key';
    case 'invalid_union':
      return `does not match any allowed form (got ${describeValue(issue.input)})`;
    default:
      return undefined;
  }
};

/** `a number`, `a mapping`, `a list`, … for a zod type name. */
export function typeName(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
    case 'tuple':
      return 'a list';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    default:
      return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}

/** Describes a value as the user wrote it: `the string "x"`, `the number 5`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'an empty value (null)';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value)}`;
    case 'number':
      return Number.isNaN(value) ? 'NaN (not a number)' : `the number ${value}`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

function tooSmall(origin: string, minimum: number, inclusive: boolean): string {
  switch (origin) {
    case 'array':
      return minimum === 1 ? 'must not be empty' : `must have at least ${minimum} items`;
    case 'string':
      return minimum === 1 ? 'must not be empty' : `must be at least ${minimum} characters long`;
    default:
      return inclusive ? `must be ≥ ${minimum}` : `must be > ${minimum}`;
  }
}

function tooBig(origin: string, maximum: number, inclusive: boolean): string {
  switch (origin) {
    case 'array':
      return `must have at most ${maximum} items`;
    case 'string':
      return `must be at most ${maximum} characters long`;
    default:
      return inclusive ? `must be ≤ ${maximum}` : `must be < ${maximum}`;
  }
}
