/**
 * Whether a command colours its output: only on a terminal, and never when NO_COLOR is set to
 * anything but the empty string (https://no-color.org).
 */
import type { CliIo, Output } from './io.js';

/** True when `output` is a terminal and the environment does not ask for no colour. */
export function useColor(io: CliIo, output: Output): boolean {
  const noColor = io.env['NO_COLOR'];
  return output.isTTY && (noColor === undefined || noColor === '');
}
