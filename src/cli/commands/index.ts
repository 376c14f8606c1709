/**
 * Every `churn` command, registered explicitly in one place, each module imported only when it
 * is needed: `churn run` loads none of the other commands' modules (the report renderers,
 * `serve`'s CRI server, `cluster`'s coordinator …), which are a third of the CPU a churn start
 * spends loading modules.
 */
import type { Command } from '../command.js';

/** The commands' names with their loaders, in the order `churn --help` lists them. */
const loaders: readonly (readonly [string, () => Promise<Command>])[] = [
  ['run', async () => (await import('./run.js')).runCommand],
  ['validate', async () => (await import('./validate.js')).validateCommand],
  ['serve', async () => (await import('./serve.js')).serveCommand],
  ['compare', async () => (await import('./compare.js')).compareCommand],
  ['report', async () => (await import('./report.js')).reportCommand],
  ['history', async () => (await import('./history.js')).historyCommand],
  ['merge', async () => (await import('./merge.js')).mergeCommand],
  ['cleanup', async () => (await import('./cleanup.js')).cleanupCommand],
  ['bench', async () => (await import('./bench.js')).benchCommand],
  ['cluster', async () => (await import('./cluster.js')).clusterCommand],
];

/** The names of the commands, in `churn --help`'s order. */
export const commandNames: readonly string[] = loaders.map(([name]) => name);

/** Every command, in the order `churn --help` lists them. */
export function loadCommands(): Promise<Command[]> {
  return Promise.all(loaders.map(([, load]) => load()));
}

/** The command named `name`, or undefined when there is none. */
export async function loadCommand(name: string): Promise<Command | undefined> {
  const entry = loaders.find(([n]) => n === name);
  return entry === undefined ? undefined : entry[1]();
}
