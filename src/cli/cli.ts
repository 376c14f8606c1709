/**
 * The whole CLI as a function `(argv, io) → exit code`: main.ts only wires it to the process,
 * so tests run every command in-process. Commands are registered here, explicitly.
 */
import yargs from 'yargs';
import { ChurnError, isChurnError } from '../common/errors.js';
import type { Command } from './command.js';
import { loadCommand, loadCommands } from './commands/index.js';
import { ExitCode, exitCodeForError } from './exit-codes.js';
import type { CliIo } from './io.js';
import { describeUnknownFlags, findUnknownFlags, type KnownFlags } from './unknown-flags.js';
import { churnVersion } from './version.js';

/** How the fail handler stops yargs on bad usage; the message is printed by runCli. */
class UsageError extends Error {}

/** Runs churn with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let usageError: string | undefined;
  // The flags of the command yargs chose (set when its builder runs), else churn's own.
  let chosen: { name: string; flags: KnownFlags | undefined } | undefined;
  const parser = yargs([...argv])
    .scriptName('churn')
    .usage(
      'churn — stress-test and benchmark container runtimes\n\nUsage: churn <command> [options]',
    )
    .version(churnVersion())
    // churn's texts are English; so is yargs' own (headings, type names), whatever LANG says:
    // the built CLI carries no yargs translations (docs/performance.md, start-up).
    .locale('en')
    .help()
    .alias('h', 'help')
    .strict()
    .demandCommand(1, 'Say which command to run (churn --help lists them).')
    .recommendCommands()
    // yargs renders a command's whole help text (cached in case the handler shows it) each time
    // it runs one, and wrapping it to the terminal width costs ~0.1-0.4 s of CPU for `run`'s
    // flags: churn never shows help from a handler, so the text is wrapped only when asked for.
    .wrap(wantsHelp(argv) ? Math.min(110, io.stdout.columns ?? 100) : null)
    .epilogue(
      'Exit codes: 0 ok · 1 threshold or regression failed · 2 bad usage or input · 3 the run broke · 130/143 stopped by SIGINT/SIGTERM.\nDocs: README.md and docs/ in the churn repository.',
    )
    .fail((message, err) => {
      // A flag yargs' strict mode refused gets a did-you-mean; other failures keep their text.
      const flags = chosen === undefined ? knownFlags(parser) : chosen.flags;
      const unknown =
        !(err instanceof Error) && flags !== undefined ? findUnknownFlags(argv, flags) : [];
      usageError =
        unknown.length > 0
          ? describeUnknownFlags(unknown)
          : err instanceof Error
            ? err.message
            : message;
      // Throwing stops yargs here: a fail handler that returns lets it go on to run the
      // command with the bad arguments (an unknown flag would still run the whole job).
      throw new UsageError(usageError);
    })
    .exitProcess(false);
  if (!wantsHelp(argv)) skipHelpCache(parser);

  // The command argv names, alone, unless help is asked for; else (help, no or an unknown
  // command: yargs lists or suggests commands) all of them.
  const named = wantsHelp(argv) ? undefined : await loadCommand(argv[0] ?? '');
  for (const command of named !== undefined ? [named] : await loadCommands()) {
    register(
      parser,
      command,
      io,
      (code) => (exitCode = code),
      (flags) => (chosen = { name: command.command.split(' ')[0]!, flags }),
    );
  }

  let helpText = '';
  try {
    await parser.parseAsync([...argv], {}, (_err, _parsed, output) => {
      helpText = output;
    });
  } catch (err) {
    if (!(err instanceof UsageError)) return reportError(err, io);
  }
  if (usageError !== undefined) {
    io.stderr.write(
      `churn: ${usageError}\n` +
        (chosen === undefined
          ? '(churn --help shows the commands and options)\n'
          : `(churn ${chosen.name} --help shows its options)\n`),
    );
    return ExitCode.badInput;
  }
  if (helpText !== '') io.stdout.write(`${helpText}\n`);
  return exitCode;
}

/** Whether `argv` asks for help (the only time yargs prints its help text for churn). */
function wantsHelp(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--help' || a === '-h');
}

/**
 * Stops yargs from rendering the chosen command's help text when it runs the command: yargs
 * caches it then, in case the handler shows help (churn's never do), and laying out `run`'s
 * flags with cliui (string-width per cell) was ~60 ms of CPU before `churn run`'s first cycle
 * on a loaded machine, even unwrapped. Through yargs' internal methods (its command runner
 * calls them the same way); if a yargs release drops them, the help is rendered as before.
 */
function skipHelpCache(parser: object): void {
  const internal = (parser as { getInternalMethods?: unknown }).getInternalMethods;
  if (typeof internal !== 'function') return;
  const usage = (
    (internal as () => { getUsageInstance?: unknown }).call(parser).getUsageInstance as
      (() => unknown) | undefined
  )?.();
  if (
    typeof usage === 'object' &&
    usage !== null &&
    typeof (usage as { cacheHelpMessage?: unknown }).cacheHelpMessage === 'function'
  ) {
    (usage as { cacheHelpMessage: () => void }).cacheHelpMessage = () => undefined;
  }
}

function register(
  parser: ReturnType<typeof yargs>,
  command: Command,
  io: CliIo,
  setExit: (code: number) => void,
  onChosen: (flags: KnownFlags | undefined) => void,
): void {
  parser.command(
    command.command,
    command.describe,
    (y) => {
      const built = command.builder(y);
      onChosen(knownFlags(built));
      return built;
    },
    async (args) => {
      try {
        setExit(await command.run(args, io));
      } catch (err) {
        setExit(reportError(err, io));
      }
    },
  );
}

/**
 * The flags a yargs instance declares (its own and the global ones), from yargs' `getOptions()`
 * (public, though missing from @types/yargs); undefined if a yargs release drops it, and then
 * the plain yargs message stands.
 */
function knownFlags(y: object): KnownFlags | undefined {
  const getOptions = (y as { getOptions?: unknown }).getOptions;
  if (typeof getOptions !== 'function') return undefined;
  const options = (getOptions as () => unknown).call(y) as {
    key?: Record<string, unknown>;
    alias?: Record<string, string[]>;
  };
  if (options.key === undefined) return undefined;
  return { names: Object.keys(options.key), aliases: options.alias ?? {} };
}

function reportError(err: unknown, io: CliIo): number {
  const code = exitCodeForError(err);
  if (isChurnError(err)) {
    io.stderr.write(`churn: ${err.message}\n`);
  } else {
    const wrapped = new ChurnError('INTERNAL', err instanceof Error ? err.message : String(err), {
      cause: err,
    });
    io.stderr.write(
      `churn: internal error: ${wrapped.message}\n${err instanceof Error ? (err.stack ?? '') : ''}\n`,
    );
  }
  return code;
}
