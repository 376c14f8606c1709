/**
 * A Driver that tells someone what the runtime said when it connected, and otherwise forwards
 * every call unchanged: how `churn run` learns the runtime's name, version and daemon pid
 * during the run (for `churn_run_info` and the resource sampler) without the runner knowing,
 * and, when asked, tells when calls are in flight (for the event-loop probe's pace).
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
  readonly #trackCall: (() => () => void) | undefined;

  /**
   * `trackCall`, when given, is told of every call as it starts and calls the function it
   * returns when the call settles (the event-loop probe ticks fast while calls are in flight).
   */
  constructor(
    inner: Driver,
    onConnected: (info: RuntimeInfo) => void,
    trackCall?: () => () => void,
  ) {
    this.#inner = inner;
    this.kind = inner.kind;
    this.#onConnected = onConnected;
    this.#trackCall = trackCall;
  }

  #tracked<T>(call: () => Promise<T>): Promise<T> {
    if (this.#trackCall === undefined) return call();
    const end = this.#trackCall();
    let pending: Promise<T>;
    try {
      pending = call();
    } catch (err) {
      end();
      throw err;
    }
    pending.then(end, end);
    return pending;
  }

  async connect(options?: CallOptions): Promise<RuntimeInfo> {
    const info = await this.#tracked(() => this.#inner.connect(options));
    try {
      this.#onConnected(info);
    } catch {
      // Observing must never change what the run does.
    }
    return info;
  }

  pullImage(image: string, options?: CallOptions): Promise<string> {
    return this.#tracked(() => this.#inner.pullImage(image, options));
  }

  runPod(spec: PodSpec, options?: CallOptions): Promise<string> {
    return this.#tracked(() => this.#inner.runPod(spec, options));
  }

  stopPod(podId: string, options?: CallOptions): Promise<void> {
    return this.#tracked(() => this.#inner.stopPod(podId, options));
  }

  removePod(podId: string, options?: CallOptions): Promise<void> {
    return this.#tracked(() => this.#inner.removePod(podId, options));
  }

  createContainer(
    podId: string,
    pod: PodSpec,
    spec: ContainerSpec,
    options?: CallOptions,
  ): Promise<string> {
    return this.#tracked(() => this.#inner.createContainer(podId, pod, spec, options));
  }

  startContainer(containerId: string, options?: CallOptions): Promise<void> {
    return this.#tracked(() => this.#inner.startContainer(containerId, options));
  }

  stopContainer(containerId: string, timeoutSec: number, options?: CallOptions): Promise<void> {
    return this.#tracked(() => this.#inner.stopContainer(containerId, timeoutSec, options));
  }

  removeContainer(containerId: string, options?: CallOptions): Promise<void> {
    return this.#tracked(() => this.#inner.removeContainer(containerId, options));
  }

  containerStatus(containerId: string, options?: CallOptions): Promise<ContainerInfo> {
    return this.#tracked(() => this.#inner.containerStatus(containerId, options));
  }

  listContainers(filter: ListFilter, options?: CallOptions): Promise<ContainerInfo[]> {
    return this.#tracked(() => this.#inner.listContainers(filter, options));
  }

  listPods(filter: ListFilter, options?: CallOptions): Promise<PodInfo[]> {
    return this.#tracked(() => this.#inner.listPods(filter, options));
  }

  exec(
    containerId: string,
    command: readonly string[],
    timeoutSec: number,
    options?: CallOptions,
  ): Promise<ExecOutcome> {
    return this.#tracked(() => this.#inner.exec(containerId, command, timeoutSec, options));
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
