// The /metrics server on loopback: what it answers, port 0, a taken port, and close() with a
// keep-alive connection open.
import { createServer } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isChurnError } from '../../src/common/errors.js';
import { MetricsExporter } from '../../src/metrics/exporter.js';
import { MetricsServer } from '../../src/metrics/metrics-server.js';
import { Recorder } from '../../src/metrics/recorder.js';
import { systemClock } from '../../src/common/clock.js';

async function listen(): Promise<{ server: MetricsServer; exporter: MetricsExporter }> {
  const exporter = new MetricsExporter({
    scenario: 's',
    driver: 'builtin',
    runId: 'r',
    churnVersion: '0',
  });
  const server = await MetricsServer.listen({ source: exporter, port: 0 });
  onTestFinished(() => server.close());
  return { server, exporter };
}

describe('MetricsServer', () => {
  it('serves the exposition on 127.0.0.1 at a free port', async () => {
    const { server, exporter } = await listen();
    const recorder = new Recorder({ clock: systemClock, observers: [exporter] });
    onTestFinished(() => recorder.release());
    recorder.slot('w', 'start').success(1234, systemClock.now());
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain(
      'churn_operation_duration_seconds_count{scenario="s",driver="builtin",workload="w",op="start"} 1',
    );
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${server.port}/nothing`)).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
    const head = await fetch(server.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('says which address is taken (USAGE)', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    const exporter = new MetricsExporter({
      scenario: 's',
      driver: 'builtin',
      runId: 'r',
      churnVersion: '0',
    });
    const error = await MetricsServer.listen({ source: exporter, port }).catch((e: unknown) => e);
    expect(isChurnError(error, 'USAGE')).toBe(true);
    expect((error as Error).message).toContain(
      `cannot serve metrics on 127.0.0.1:${port}: EADDRINUSE`,
    );
    expect((error as Error).message).toContain('--metrics-port');
  });

  it('closes with a keep-alive connection open, and then refuses connections', async () => {
    const { server } = await listen();
    const res = await fetch(server.url, { headers: { connection: 'keep-alive' } });
    await res.text();
    await server.close();
    await expect(fetch(server.url)).rejects.toThrow();
  });
});
