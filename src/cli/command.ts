/** The shape every `churn <noun>` command has: a yargs builder and a run returning an exit code. */
import type { Argv } from 'yargs';
import type { CliIo } from './io.js';

/** One command. `run` gets the parsed arguments and the io; it returns the exit code. */
export interface Command<A = Record<string, unknown>> {
  /** yargs command string, e.g. `run [scenario]`. */
  readonly command: string;
  readonly describe: string;
  /** Declares options and positionals, examples and epilogue (the --help that teaches). */
  builder(yargs: Argv): Argv<A>;
  run(args: A, io: CliIo): Promise<number>;
}

/** Erases the argument type so commands of different shapes can share one list. */
export function defineCommand<A>(command: Command<A>): Command {
  return command as unknown as Command;
}
