/**
 * Debian's Prometheus and Pushgateway for e2e tests, started on loopback by the test that
 * needs them: a temp dir, a free port, cleanup registered where they start.
 *
 *   const prom = await startPrometheus();          // scrape interval 1 s, targets via file_sd
 *   await prom.setTargets(['127.0.0.1:40123']);    // picked up at once (file_sd watches it)
 *   const result = await prom.query('sum(churn_cycles_total)');
 *
 * Where the binaries are missing, `prometheusSkipReason()` says why and tests skip — except in
 * CI (`CI=true`), where a missing binary is a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

export const prometheusBin = '/usr/bin/prometheus';
export const pushgatewayBin = '/usr/bin/prometheus-pushgateway';
export const promtoolBin = '/usr/bin/promtool';

/** Why Prometheus tests cannot run here, or undefined when they can. Throws in CI. */
export function prometheusSkipReason(): string | undefined {
  const missing = [prometheusBin, pushgatewayBin, promtoolBin].filter((p) => !existsSync(p));
  if (missing.length === 0) return undefined;
  const reason = `not installed: ${missing.join(', ')} (apt-get install prometheus prometheus-pushgateway)`;
  if (process.env['CI'] === 'true') throw new Error(`Prometheus is required in CI but ${reason}`);
  return reason;
}

/** A port nobody listens on right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    }
    await sleep(everyMs);
  }
}

interface Started {
  readonly child: ChildProcess;
  output(): string;
}

/** Registers cleanup: `onTestFinished` inside a test, a collector run in afterAll outside. */
export type OnCleanup = (fn: () => Promise<void> | void) => void;

/** Spawns `bin args`, killed (and awaited) through `onCleanup`. */
function spawnDaemon(bin: string, args: readonly string[], onCleanup: OnCleanup): Started {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  });
  return { child, output: () => output };
}

/**
 * Whether process `pid` holds a socket listening on TCP `port` (proc(5): /proc/net/tcp{,6}
 * rows in state 0A, LISTEN, give the socket's inode; /proc/<pid>/fd links name it).
 */
async function listensOn(pid: number, port: number): Promise<boolean> {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(portHex) === true && fields[3] === '0A' && fields[9] !== undefined) {
        inodes.add(`socket:[${fields[9]}]`);
      }
    }
  }
  if (inodes.size === 0) return false;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (inodes.has(link)) return true;
  }
  return false;
}

/**
 * Waits until `url` (on `port`) answers 200 from the daemon this test started, or the daemon
 * exits (then throws with its output). Checking that the answer comes from our daemon matters:
 * a free port is picked, released and then bound by the daemon, and another test's daemon
 * may bind it in between; ours then exits and the other one answers.
 */
async function waitReady(url: string, port: number, daemon: Started, what: string): Promise<void> {
  await waitFor(
    `${what} at ${url}`,
    async () => {
      if (daemon.child.exitCode !== null) {
        throw new Error(`${what} exited ${daemon.child.exitCode}: ${daemon.output().slice(-2000)}`);
      }
      const res = await fetch(url).catch(() => undefined);
      if (res?.ok !== true) return undefined;
      const pid = daemon.child.pid;
      return pid !== undefined && (await listensOn(pid, port)) ? true : undefined;
    },
    30_000,
    100,
  );
}

/** One series of an instant query. */
export interface VectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One series of a range query. */
export interface MatrixSeries {
  readonly metric: Readonly<Record<string, string>>;
  /** [unix seconds, value] pairs; NaN where Prometheus said NaN. */
  readonly values: readonly (readonly [number, number])[];
}

interface ApiResponse {
  status: 'success' | 'error';
  error?: string;
  data?: {
    resultType: 'vector' | 'matrix' | 'scalar' | 'string';
    result: unknown;
  };
}

/** A scrape target: `host:port`, or that and labels for its series. */
export type ScrapeTarget =
  string | { readonly target: string; readonly labels: Readonly<Record<string, string>> };

/** A Prometheus started for a test. */
export interface TestPrometheus {
  /** `http://127.0.0.1:port`. */
  readonly url: string;
  readonly dir: string;
  /**
   * Replaces the scrape targets of job `churn`: `host:port` each, or with labels Prometheus
   * adds to its series (as a Kubernetes scrape's relabeling adds `node`).
   */
  setTargets(targets: readonly ScrapeTarget[]): Promise<void>;
  /** Instant query at `timeSec` (unix seconds; default now). */
  query(expr: string, timeSec?: number): Promise<VectorSample[]>;
  /** Range query. */
  queryRange(
    expr: string,
    startSec: number,
    endSec: number,
    stepSec: number,
  ): Promise<MatrixSeries[]>;
  /** Prometheus's log so far. */
  output(): string;
}

/** Options of {@link startPrometheus}. */
export interface PrometheusOptions {
  /** Scrape and evaluation interval, s. Default 1. */
  readonly scrapeIntervalSec?: number;
  /** Default `onTestFinished`. */
  readonly onCleanup?: OnCleanup;
}

async function api(
  base: string,
  path: string,
  params: Record<string, string>,
): Promise<ApiResponse['data']> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  const body = (await res.json()) as ApiResponse;
  if (body.status !== 'success' || body.data === undefined) {
    throw new Error(
      `Prometheus ${path} ${JSON.stringify(params)}: ${body.error ?? res.statusText}`,
    );
  }
  return body.data;
}

/** Starts Prometheus on a free loopback port with a file_sd job `churn`; see the module comment. */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<TestPrometheus> {
  const onCleanup = options.onCleanup ?? onTestFinished;
  const dir = await mkdtemp(join(tmpdir(), 'churn-prometheus-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  const interval = `${options.scrapeIntervalSec ?? 1}s`;
  const targetsFile = join(dir, 'targets.json');
  await writeFile(targetsFile, '[]\n');
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    '  - job_name: churn',
    '    file_sd_configs:',
    `      - files: ['${targetsFile}']`,
    '        refresh_interval: 1s',
    '',
  ].join('\n');
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, config);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const daemon = spawnDaemon(
      prometheusBin,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, `data-${attempt}`)}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      onCleanup,
    );
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(`${url}/-/ready`, port, daemon, 'Prometheus');
    } catch (err) {
      lastError = err;
      daemon.child.kill('SIGKILL');
      continue;
    }
    return {
      url,
      dir,
      output: daemon.output,
      async setTargets(targets) {
        const tmp = `${targetsFile}.tmp`;
        const groups = targets.map((t) =>
          typeof t === 'string' ? { targets: [t] } : { targets: [t.target], labels: t.labels },
        );
        await writeFile(tmp, `${JSON.stringify(groups)}\n`);
        await rename(tmp, targetsFile);
      },
      async query(expr, timeSec) {
        const data = await api(url, '/api/v1/query', {
          query: expr,
          ...(timeSec !== undefined ? { time: String(timeSec) } : {}),
        });
        if (data?.resultType !== 'vector') throw new Error(`${expr}: not a vector`);
        return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map(
          (r) => ({ metric: r.metric, value: Number(r.value[1]) }),
        );
      },
      async queryRange(expr, startSec, endSec, stepSec) {
        const data = await api(url, '/api/v1/query_range', {
          query: expr,
          start: String(startSec),
          end: String(endSec),
          step: String(stepSec),
        });
        if (data?.resultType !== 'matrix') throw new Error(`${expr}: not a matrix`);
        return (
          data.result as { metric: Record<string, string>; values: [number, string][] }[]
        ).map((r) => ({
          metric: r.metric,
          values: r.values.map(([t, v]) => [t, Number(v)] as const),
        }));
      },
    };
  }
  throw new Error(`could not start Prometheus: ${String(lastError)}`);
}

/** A Pushgateway started for a test. */
export interface TestPushgateway {
  /** `http://127.0.0.1:port`. */
  readonly url: string;
  /** Every sample the gateway holds, parsed from its /metrics. */
  samples(): Promise<ExpositionSample[]>;
}

/** Starts a Pushgateway on a free loopback port (no persistence). */
export async function startPushgateway(
  onCleanup: OnCleanup = onTestFinished,
): Promise<TestPushgateway> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const daemon = spawnDaemon(
      pushgatewayBin,
      [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      onCleanup,
    );
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(`${url}/-/ready`, port, daemon, 'Pushgateway');
    } catch (err) {
      lastError = err;
      daemon.child.kill('SIGKILL');
      continue;
    }
    return {
      url,
      async samples() {
        const res = await fetch(`${url}/metrics`);
        return parseExposition(await res.text());
      },
    };
  }
  throw new Error(`could not start the Pushgateway: ${String(lastError)}`);
}

/** One sample line of the Prometheus text format. */
export interface ExpositionSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the Prometheus text exposition format (comments skipped; no timestamps expected). */
export function parseExposition(text: string): ExpositionSample[] {
  const out: ExpositionSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? '';
    const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    for (let m = pair.exec(body); m !== null; m = pair.exec(body)) {
      labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const raw = match[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    out.push({ name: match[1]!, labels, value });
  }
  return out;
}
