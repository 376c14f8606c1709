// The metrics flags of `churn run`: checked before anything starts, each problem naming its
// flag (exit 2), defaults as documented in docs/metrics.md.
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/cli.js';
import {
  defaultMetricsLingerMs,
  defaultPushIntervalMs,
  metricsFlagsFromArgs,
  type MetricsArgs,
} from '../../../src/cli/metrics-session.js';
import { bufferIo } from '../../support/cli-io.js';

describe('metrics flags', () => {
  it('default to no export, a 30 s linger, 10 s pushes, instance = host name', () => {
    expect(metricsFlagsFromArgs({})).toEqual({
      port: undefined,
      host: '127.0.0.1',
      lingerMs: defaultMetricsLingerMs,
      pushgateway: undefined,
      pushIntervalMs: defaultPushIntervalMs,
      pushDelete: false,
      pushInstance: hostname(),
      targetPid: undefined,
      targetProcess: undefined,
    });
    expect(defaultMetricsLingerMs).toBe(30_000);
    expect(defaultPushIntervalMs).toBe(10_000);
  });

  it('read durations, a port, a gateway and a target', () => {
    expect(
      metricsFlagsFromArgs({
        'metrics-port': 0,
        'metrics-host': '0.0.0.0',
        'metrics-linger': '0',
        pushgateway: 'http://127.0.0.1:9091/',
        'push-interval': '1.5s',
        'pushgateway-delete': true,
        'push-instance': 'node-7',
        'target-process': 'containerd',
      }),
    ).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      lingerMs: 0,
      pushgateway: 'http://127.0.0.1:9091',
      pushIntervalMs: 1500,
      pushDelete: true,
      pushInstance: 'node-7',
      targetProcess: 'containerd',
    });
    expect(metricsFlagsFromArgs({ 'metrics-port': 9464, 'metrics-linger': '2m' }).lingerMs).toBe(
      120_000,
    );
  });

  it.each<[MetricsArgs, RegExp]>([
    [{ 'metrics-port': 70000 }, /--metrics-port 70000: use a port number 0–65535/],
    [{ 'metrics-port': 1.5 }, /--metrics-port 1.5/],
    [{ 'metrics-linger': '5s' }, /--metrics-linger needs --metrics-port/],
    [{ 'metrics-host': '0.0.0.0' }, /--metrics-host needs --metrics-port/],
    [{ 'metrics-port': 1, 'metrics-linger': '30' }, /--metrics-linger: "30" has no unit/],
    [{ 'push-interval': '1s' }, /--push-interval needs --pushgateway URL/],
    [{ 'pushgateway-delete': true }, /--pushgateway-delete needs --pushgateway URL/],
    [
      { pushgateway: 'http://h:1', 'push-interval': '10ms' },
      /--push-interval 10ms: use at least 100ms/,
    ],
    [{ pushgateway: 'gateway:9091' }, /--pushgateway gateway:9091/],
    [{ 'target-pid': 1, 'target-process': 'x' }, /cannot be used together/],
    [{ 'target-pid': -3 }, /--target-pid -3: use a process id/],
  ])('refuse %j', (args, message) => {
    expect(() => metricsFlagsFromArgs(args)).toThrow(message);
  });

  it('make churn run exit 2 before touching a runtime', async () => {
    const io = bufferIo();
    const code = await runCli(['run', '--metrics-linger', '5s'], io.io);
    expect(code).toBe(2);
    expect(io.stderr()).toContain('--metrics-linger needs --metrics-port');
    expect(io.stdout()).toBe('');
  });
});
