/**
 * A Driver that tells someone what the runtime said when it connected, and otherwise forwards
 * every call unchanged: how `churn run` learns the runtime's name, version and daemon pid
 * during the run (for `churn_run_info` and the resource sampler) without the runner knowing.
 */
import type {
  CallOptions,
  ContainerInfo,
  ContainerSpec,
  Driver,
  ExecOutcome,
  ListFilter,
  PodInfo,
  PodSpec,
  RuntimeInfo,
} from '../drivers/driver.js';

/** Wraps `inner`; `onConnected` runs after each successful connect (its errors are ignored). */
export class ConnectObserver implements Driver {
  readonly kind: Driver['kind'];
  readonly #inner: Driver;
  readonly #onConnected: (info: RuntimeInfo) => void;

  constructor(inner: Driver, onConnected: (info: RuntimeInfo) => void) {
    this.#inner = inner;
    this.kind = inner.kind;
    this.#onConnected = onConnected;
  }

  async connect(options?: CallOptions): Promise<RuntimeInfo> {
    const info = await this.#inner.connect(options);
    try {
      this.#onConnected(info);
    } catch {
      // Observing must never change what the run does.
    }
    return info;
  }

  pullImage(image: string, options?: CallOptions): Promise<string> {
    return this.#inner.pullImage(image, options);
  }

  runPod(spec: PodSpec, options?: CallOptions): Promise<string> {
    return this.#inner.runPod(spec, options);
  }

  stopPod(podId: string, options?: CallOptions): Promise<void> {
    return this.#inner.stopPod(podId, options);
  }

  removePod(podId: string, options?: CallOptions): Promise<void> {
    return this.#inner.removePod(podId, options);
  }

  createContainer(
    podId: string,
    pod: PodSpec,
    spec: ContainerSpec,
    options?: CallOptions,
  ): Promise<string> {
    return this.#inner.createContainer(podId, pod, spec, options);
  }

  startContainer(containerId: string, options?: CallOptions): Promise<void> {
    return this.#inner.startContainer(containerId, options);
  }

  stopContainer(containerId: string, timeoutSec: number, options?: CallOptions): Promise<void> {
    return this.#inner.stopContainer(containerId, timeoutSec, options);
  }

  removeContainer(containerId: string, options?: CallOptions): Promise<void> {
    return this.#inner.removeContainer(containerId, options);
  }

  containerStatus(containerId: string, options?: CallOptions): Promise<ContainerInfo> {
    return this.#inner.containerStatus(containerId, options);
  }

  listContainers(filter: ListFilter, options?: CallOptions): Promise<ContainerInfo[]> {
    return this.#inner.listContainers(filter, options);
  }

  listPods(filter: ListFilter, options?: CallOptions): Promise<PodInfo[]> {
    return this.#inner.listPods(filter, options);
  }

  exec(
    containerId: string,
    command: readonly string[],
    timeoutSec: number,
    options?: CallOptions,
  ): Promise<ExecOutcome> {
    return this.#inner.exec(containerId, command, timeoutSec, options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
