// The driver wrapper RunMetrics puts around the run's driver: it forwards every call and tells
// the event-loop probe when calls are in flight (the probe ticks fast only then).
import { describe, expect, it } from 'vitest';
import { ConnectObserver } from '../../../src/cli/connect-observer.js';
import { ChurnError } from '../../../src/common/errors.js';
import type { Driver, RuntimeInfo } from '../../../src/drivers/driver.js';

/** A driver whose calls settle when the test says so. */
function gatedDriver(): { driver: Driver; release: () => void; fail: () => void } {
  let settle: ((ok: boolean) => void) | undefined;
  const gate = <T>(value: T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      settle = (ok) => (ok ? resolve(value) : reject(new ChurnError('UNAVAILABLE', 'down')));
    });
  const info: RuntimeInfo = {
    runtimeName: 'gated',
    runtimeVersion: '0',
    runtimeApiVersion: 'v1',
    runtimeHandler: '',
  };
  const driver: Driver = {
    kind: 'builtin',
    connect: () => gate(info),
    pullImage: (image) => gate(image),
    runPod: () => gate('p1'),
    stopPod: () => gate(undefined),
    removePod: () => gate(undefined),
    createContainer: () => gate('c1'),
    startContainer: () => gate(undefined),
    stopContainer: () => gate(undefined),
    removeContainer: () => gate(undefined),
    containerStatus: (id) =>
      gate({ id, podId: 'p1', name: 'c', state: 'RUNNING' as const, labels: {}, exitCode: 0 }),
    listContainers: () => gate([]),
    listPods: () => gate([]),
    exec: () => gate({ exitCode: 0, stdout: '', stderr: '' }),
    close: () => Promise.resolve(),
  };
  return { driver, release: () => settle?.(true), fail: () => settle?.(false) };
}

describe('ConnectObserver call tracking', () => {
  it('marks each call in flight from its start until it settles, success or failure', async () => {
    const { driver, release, fail } = gatedDriver();
    let inFlight = 0;
    const observed = new ConnectObserver(
      driver,
      () => undefined,
      () => {
        inFlight++;
        return () => inFlight--;
      },
    );
    const started = observed.startContainer('c1');
    expect(inFlight).toBe(1);
    release();
    await started;
    expect(inFlight).toBe(0);

    const stopped = observed.stopContainer('c1', 0);
    expect(inFlight).toBe(1);
    fail();
    await expect(stopped).rejects.toThrow('down');
    expect(inFlight).toBe(0);
  });

  it('still reports the connection, and forwards unchanged without a tracker', async () => {
    const { driver, release } = gatedDriver();
    const seen: string[] = [];
    const observed = new ConnectObserver(driver, (info) => seen.push(info.runtimeName));
    const connected = observed.connect();
    release();
    expect((await connected).runtimeName).toBe('gated');
    expect(seen).toEqual(['gated']);
  });
});
