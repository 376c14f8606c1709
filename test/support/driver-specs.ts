// Driver-level pod and container specs with defaults, for tests that drive a runtime through
// the Driver interface (builtin, cri against churn serve or containerd).
import type { ContainerSpec, Driver, PodSpec } from '../../src/drivers/driver.js';

/** A pod spec named `name` (uid from the name), host network, no log directory. */
export function podSpec(name: string, overrides: Partial<PodSpec> = {}): PodSpec {
  return {
    name,
    uid: `uid-${name}`,
    namespace: 'churn-test',
    attempt: 0,
    labels: {},
    annotations: {},
    hostNetwork: true,
    logDirectory: '',
    ...overrides,
  };
}

/** A container spec `c` running `sleep 3600` in the host image, without a log. */
export function containerSpec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: 'c',
    attempt: 0,
    image: 'host',
    command: ['sleep', '3600'],
    args: [],
    workingDir: '',
    env: {},
    labels: {},
    annotations: {},
    logPath: '',
    ...overrides,
  };
}

/** A pod `podName` with one container running `command`, started; ids of both. */
export async function startedContainer(
  driver: Driver,
  podName: string,
  command: readonly string[],
): Promise<{ readonly pod: PodSpec; readonly podId: string; readonly id: string }> {
  const pod = podSpec(podName);
  const podId = await driver.runPod(pod);
  const id = await driver.createContainer(podId, pod, containerSpec({ command: [...command] }));
  await driver.startContainer(id);
  return { pod, podId, id };
}
