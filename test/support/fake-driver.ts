/**
 * A test double of an external runtime, behind the Driver interface: pods and containers in
 * memory with CRI's rules (states, labels, removal), latency per operation taken on a Clock
 * (a FakeClock in unit tests), failures chosen by the test, a runtime-wide stall, and a record
 * of every call, so tests can check what the harness asked for and what it left behind.
 */
import type { Clock } from '../../src/common/clock.js';
import { ChurnError, type ErrorCode } from '../../src/common/errors.js';
import type { RuntimeOp } from '../../src/common/operations.js';
import type {
  CallOptions,
  ContainerInfo,
  ContainerSpec,
  ContainerStateName,
  Driver,
  ExecOutcome,
  ListFilter,
  PodInfo,
  PodSpec,
  RuntimeInfo,
} from '../../src/drivers/driver.js';

/** One call the double received. */
export interface FakeCall {
  readonly op: RuntimeOp | 'connect' | 'list_pods';
  readonly id: string;
  /** Clock time the call arrived. */
  readonly atMs: number;
}

/** Options of a {@link FakeDriver}. */
export interface FakeDriverOptions {
  readonly clock: Clock;
  /** Latency of each operation, ms (a number, or per call from its 0-based index). */
  readonly latencyMs?: Partial<Record<RuntimeOp, number | ((call: number) => number)>>;
  /** The error code a call fails with, or undefined to succeed; `call` counts per op from 0. */
  readonly fail?: (op: RuntimeOp, call: number) => ErrorCode | undefined;
  /** Exit code of every exec. Default 0. */
  readonly execExitCode?: number;
  /** connect rejects with this code. */
  readonly connectError?: ErrorCode;
}

interface FakePod {
  readonly id: string;
  readonly spec: PodSpec;
  state: 'READY' | 'NOTREADY';
}

interface FakeContainer {
  readonly id: string;
  readonly podId: string;
  readonly spec: ContainerSpec;
  state: ContainerStateName;
}

/** The double; see the module comment. */
export class FakeDriver implements Driver {
  readonly kind = 'builtin' as const;
  readonly calls: FakeCall[] = [];
  readonly pods = new Map<string, FakePod>();
  readonly containers = new Map<string, FakeContainer>();
  /** Pods and containers ever created (ids), for leak checks. */
  readonly created = { pods: 0, containers: 0 };
  readonly #options: FakeDriverOptions;
  readonly #clock: Clock;
  readonly #callCounts = new Map<string, number>();
  #nextId = 1;
  #stallUntilMs = -Infinity;

  constructor(options: FakeDriverOptions) {
    this.#options = options;
    this.#clock = options.clock;
  }

  /** Every call arriving before `untilMs` (clock time) waits until then: a paused runtime. */
  stallUntil(untilMs: number): void {
    this.#stallUntilMs = untilMs;
  }

  /** Calls of `op` received so far. */
  count(op: FakeCall['op']): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  async connect(options?: CallOptions): Promise<RuntimeInfo> {
    this.calls.push({ op: 'connect', id: '', atMs: this.#clock.now() });
    await this.#wait(0, options);
    if (this.#options.connectError !== undefined) {
      throw new ChurnError(this.#options.connectError, 'fake runtime refuses to connect');
    }
    return {
      runtimeName: 'fake',
      runtimeVersion: '1.0.0',
      runtimeApiVersion: 'v1',
      runtimeHandler: '',
    };
  }

  async pullImage(image: string, options?: CallOptions): Promise<string> {
    await this.#enter('pull', image, options);
    return `sha256:${image}`;
  }

  async runPod(spec: PodSpec, options?: CallOptions): Promise<string> {
    await this.#enter('run_pod', spec.name, options);
    for (const pod of this.pods.values()) {
      if (pod.spec.name === spec.name && pod.spec.namespace === spec.namespace) {
        throw new ChurnError('ALREADY_EXISTS', `pod ${spec.name} already exists`);
      }
    }
    const id = `pod-${this.#nextId++}`;
    this.pods.set(id, { id, spec, state: 'READY' });
    this.created.pods++;
    return id;
  }

  async stopPod(podId: string, options?: CallOptions): Promise<void> {
    await this.#enter('stop_pod', podId, options);
    const pod = this.pods.get(podId);
    if (pod === undefined) return;
    for (const c of this.containers.values()) {
      if (c.podId === podId && c.state === 'RUNNING') c.state = 'EXITED';
    }
    pod.state = 'NOTREADY';
  }

  async removePod(podId: string, options?: CallOptions): Promise<void> {
    await this.#enter('remove_pod', podId, options);
    const pod = this.pods.get(podId);
    if (pod === undefined) return;
    for (const c of this.containers.values()) {
      if (c.podId === podId && c.state === 'RUNNING') {
        throw new ChurnError('FAILED_PRECONDITION', `pod ${podId} has a running container`);
      }
    }
    for (const c of [...this.containers.values()]) {
      if (c.podId === podId) this.containers.delete(c.id);
    }
    this.pods.delete(podId);
  }

  async createContainer(
    podId: string,
    _pod: PodSpec,
    spec: ContainerSpec,
    options?: CallOptions,
  ): Promise<string> {
    await this.#enter('create', spec.name, options);
    const pod = this.pods.get(podId);
    if (pod === undefined) throw new ChurnError('NOT_FOUND', `pod ${podId} not found`);
    if (pod.state !== 'READY')
      throw new ChurnError('FAILED_PRECONDITION', `pod ${podId} not ready`);
    for (const c of this.containers.values()) {
      if (c.podId === podId && c.spec.name === spec.name) {
        throw new ChurnError('ALREADY_EXISTS', `container ${spec.name} already exists`);
      }
    }
    const id = `ctr-${this.#nextId++}`;
    this.containers.set(id, { id, podId, spec, state: 'CREATED' });
    this.created.containers++;
    return id;
  }

  async startContainer(containerId: string, options?: CallOptions): Promise<void> {
    await this.#enter('start', containerId, options);
    const c = this.#container(containerId);
    if (c.state !== 'CREATED') {
      throw new ChurnError('FAILED_PRECONDITION', `container ${containerId} is ${c.state}`);
    }
    c.state = 'RUNNING';
  }

  async stopContainer(
    containerId: string,
    _timeoutSec: number,
    options?: CallOptions,
  ): Promise<void> {
    await this.#enter('stop', containerId, options);
    const c = this.containers.get(containerId);
    if (c?.state === 'RUNNING') c.state = 'EXITED';
  }

  async removeContainer(containerId: string, options?: CallOptions): Promise<void> {
    await this.#enter('remove', containerId, options);
    const c = this.containers.get(containerId);
    if (c === undefined) return;
    if (c.state === 'RUNNING') {
      throw new ChurnError('FAILED_PRECONDITION', `container ${containerId} is running`);
    }
    this.containers.delete(containerId);
  }

  async containerStatus(containerId: string, options?: CallOptions): Promise<ContainerInfo> {
    await this.#enter('status', containerId, options);
    return this.#info(this.#container(containerId));
  }

  async listContainers(filter: ListFilter, options?: CallOptions): Promise<ContainerInfo[]> {
    await this.#enter('list', '', options);
    return [...this.containers.values()]
      .filter(
        (c) =>
          (filter.podId === undefined || c.podId === filter.podId) &&
          matches(c.spec.labels, filter),
      )
      .map((c) => this.#info(c));
  }

  async listPods(filter: ListFilter, options?: CallOptions): Promise<PodInfo[]> {
    this.calls.push({ op: 'list_pods', id: '', atMs: this.#clock.now() });
    await this.#wait(0, options);
    return [...this.pods.values()]
      .filter((p) => matches(p.spec.labels, filter))
      .map((p) => ({ id: p.id, name: p.spec.name, state: p.state, labels: p.spec.labels }));
  }

  async exec(
    containerId: string,
    _command: readonly string[],
    _timeoutSec: number,
    options?: CallOptions,
  ): Promise<ExecOutcome> {
    await this.#enter('exec', containerId, options);
    const c = this.#container(containerId);
    if (c.state !== 'RUNNING') {
      throw new ChurnError('FAILED_PRECONDITION', `container ${containerId} is not running`);
    }
    return { exitCode: this.#options.execExitCode ?? 0, stdout: '', stderr: '' };
  }

  async close(): Promise<void> {
    // Nothing to release.
  }

  /** Records the call, waits out the stall and the op's latency, then fails it if asked. */
  async #enter(op: RuntimeOp, id: string, options: CallOptions | undefined): Promise<void> {
    const call = this.#callCounts.get(op) ?? 0;
    this.#callCounts.set(op, call + 1);
    this.calls.push({ op, id, atMs: this.#clock.now() });
    const latency = this.#options.latencyMs?.[op];
    const latencyMs = typeof latency === 'function' ? latency(call) : (latency ?? 0);
    await this.#wait(latencyMs, options);
    const code = this.#options.fail?.(op, call);
    if (code !== undefined) throw new ChurnError(code, `fake ${op} fails (call ${call})`);
  }

  async #wait(latencyMs: number, options: CallOptions | undefined): Promise<void> {
    const signal = options?.signal;
    try {
      const stallMs = this.#stallUntilMs - this.#clock.now();
      if (stallMs > 0) await this.#clock.sleep(stallMs, signal);
      if (latencyMs > 0) await this.#clock.sleep(latencyMs, signal);
    } catch {
      throw new ChurnError('CANCELLED', 'call cancelled');
    }
    if (signal?.aborted === true) throw new ChurnError('CANCELLED', 'call cancelled');
  }

  #container(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (c === undefined) throw new ChurnError('NOT_FOUND', `container ${id} not found`);
    return c;
  }

  #info(c: FakeContainer): ContainerInfo {
    return {
      id: c.id,
      podId: c.podId,
      name: c.spec.name,
      state: c.state,
      labels: c.spec.labels,
      exitCode: 0,
    };
  }
}

function matches(labels: Readonly<Record<string, string>>, filter: ListFilter): boolean {
  const selector = filter.labelSelector ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
