/**
 * What every script's entry point does: when the module is the script node was started with,
 * run its `main` on the command line's arguments and set the exit code; an error prints
 * `name: message` and exits 1.
 */
export function runIfScript(
  moduleUrl: string,
  name: string,
  main: (argv: readonly string[]) => Promise<number>,
): void {
  if (process.argv[1] === undefined || moduleUrl !== new URL(`file://${process.argv[1]}`).href) {
    return;
  }
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`${name}: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
