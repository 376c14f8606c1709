// Preload of bench/startup.bench.ts (`node --import`): writes to the file named by
// STARTUP_PROBE_OUT this process's CPU (user + system, ms) when it sends the built-in core its
// first RunPodSandbox (the first cycle's first call) and when it exits, one JSON line each.
// The core is forked through child_process.fork, whose children are wrapped here.
import { appendFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import process from 'node:process';

const out = process.env.STARTUP_PROBE_OUT;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const write = (record) => {
  if (out !== undefined) appendFileSync(out, `${JSON.stringify(record)}\n`);
};

const childProcess = createRequire(import.meta.url)('node:child_process');
const fork = childProcess.fork;
let seen = false;
childProcess.fork = function (...args) {
  const child = fork.apply(this, args);
  const send = child.send;
  child.send = function (message, ...rest) {
    if (!seen && message?.method === 'runPodSandbox') {
      seen = true;
      write({ firstCycleCpuMs: cpuMs() });
    }
    return send.call(this, message, ...rest);
  };
  return child;
};
// ESM importers of node:child_process see the wrapped fork too.
syncBuiltinESMExports();
process.on('exit', () => write({ exitCpuMs: cpuMs() }));
