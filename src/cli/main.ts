#!/usr/bin/env node
/**
 * churn's entry point: the only place that touches process.argv, process.env, the process's
 * signals and its exit code. Everything else is `runCli(argv, io)`.
 */
import { runCli } from './cli.js';
import type { CliIo, StopSignalName } from './io.js';

const io: CliIo = {
  stdout: {
    write: (text) => process.stdout.write(text),
    get isTTY() {
      return process.stdout.isTTY;
    },
    get columns() {
      return process.stdout.columns;
    },
  },
  stderr: {
    write: (text) => process.stderr.write(text),
    get isTTY() {
      return process.stderr.isTTY;
    },
  },
  env: process.env,
  cwd: process.cwd(),
  onStopSignal(listener) {
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((name: StopSignalName) => {
      const handler = (): void => {
        // The terminal is gone: writes to it fail (EIO) and must not end the run's cleanup.
        if (name === 'SIGHUP') {
          process.stdout.on('error', () => undefined);
          process.stderr.on('error', () => undefined);
        }
        listener(name);
      };
      process.on(name, handler);
      return [name, handler] as const;
    });
    return () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    };
  },
};

process.exitCode = await runCli(process.argv.slice(2), io);
