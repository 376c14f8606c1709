/** Every `churn` command, registered explicitly in one place. */
import type { Command } from '../command.js';
import { benchCommand } from './bench.js';
import { cleanupCommand } from './cleanup.js';
import { clusterCommand } from './cluster.js';
import { compareCommand } from './compare.js';
import { historyCommand } from './history.js';
import { mergeCommand } from './merge.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';
import { validateCommand } from './validate.js';

/** The commands, in the order `churn --help` lists them. */
export const commands: readonly Command[] = [
  runCommand,
  validateCommand,
  serveCommand,
  compareCommand,
  reportCommand,
  historyCommand,
  mergeCommand,
  cleanupCommand,
  benchCommand,
  clusterCommand,
];
