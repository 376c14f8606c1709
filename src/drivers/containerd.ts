/**
 * The `containerd` driver: drives containerd over its own gRPC API (containers, tasks,
 * snapshots, images, content, version; v1.6 protos), the path containerd-stress takes, in a
 * containerd namespace of its own (`containerd-namespace` header). No CRI plugin is involved,
 * so a scenario can measure CRI's overhead against the native path on the same daemon.
 *
 * The cycle, as containerd-stress does it:
 *
 *   createContainer  Containers.Create (OCI spec as Any, runtime io.containerd.runc.v2,
 *                    snapshot key = container id), then Snapshots.Prepare from the image's
 *                    chain id. The container exists first so containerd's garbage collector
 *                    sees the snapshot referenced as soon as it exists (no lease needed).
 *   startContainer   Tasks.Create (rootfs = the snapshot's mounts, null IO) + Tasks.Start
 *   stopContainer    no-op when the task has exited; else Kill SIGTERM, Wait ≤ timeout, SIGKILL, Wait
 *   removeContainer  Tasks.Delete, Containers.Delete, Snapshots.Remove (each NOT_FOUND is fine)
 *
 * Pods are a CRI notion containerd's API does not have: here a pod is a label group with no
 * sandbox and no process. runPod returns a fresh id kept in memory; the pod's labels and
 * `churn.pod=<id>` are put on each of its containers; stopPod does nothing; removePod forgets
 * it. listPods lists the pods this driver made (none after a restart: nothing of a pod
 * survives in containerd, so there is nothing to sweep).
 *
 * Labels: every container and snapshot carries the pod's and the container's labels
 * (`churn.run` …), so the cleanup sweep (listContainers by label, stop, remove) finds a run's
 * leftovers; removing a container removes its task and snapshot. An active snapshot left
 * without its container is collected by containerd's garbage collector.
 *
 * Images are never pulled: pullImage resolves the image from the namespace's image store
 * (NOT_FOUND, saying how to import it, otherwise), as containerd-stress's local change 1 does.
 */
import { randomBytes } from 'node:crypto';
import { ChurnError, isChurnError } from '../common/errors.js';
import { socketOwnerPid } from '../cri/socket-owner.js';
import { pauseSecurity } from '../runtime/executors/oci-security.js';
import { ContainerdClient, type ContainerdCallOptions } from './containerd/client.js';
import { resolveImage, type ResolvedImage } from './containerd/image.js';
import { OciSpecTemplate } from './containerd/spec-template.js';
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
} from './driver.js';

/** Options of a {@link ContainerdDriver}. */
export interface ContainerdDriverOptions {
  /** Absolute path of containerd's socket (`unix://` prefix allowed). */
  readonly address: string;
  /** containerd namespace the driver works in. */
  readonly namespace: string;
  /** Snapshotter of the containers' snapshots (the image must be unpacked for it). */
  readonly snapshotter: string;
  /** containerd runtime of the tasks. */
  readonly runtime: string;
  /** Deadline of each call in milliseconds; stop and exec add their own timeout to it. */
  readonly callTimeoutMs: number;
}

/** Label holding the id of the (label-group) pod a container belongs to. */
export const podLabel = 'churn.pod';
/** Label holding the container's name. */
export const nameLabel = 'churn.container-name';

const specTypeUrl = 'types.containerd.io/opencontainers/runtime-spec/1/Spec';
const processTypeUrl = 'types.containerd.io/opencontainers/runtime-spec/1/Process';
const SIGTERM = 15;
const SIGKILL = 9;

interface WireContainer {
  readonly id: string;
  readonly labels: Record<string, string>;
  readonly snapshotter: string;
  readonly snapshotKey: string;
}

interface WireProcess {
  readonly id: string;
  readonly status: 'UNKNOWN' | 'CREATED' | 'RUNNING' | 'STOPPED' | 'PAUSED' | 'PAUSING';
  readonly exitStatus: number;
}

const taskStates: Readonly<Record<WireProcess['status'], ContainerStateName>> = {
  UNKNOWN: 'UNKNOWN',
  CREATED: 'CREATED',
  RUNNING: 'RUNNING',
  STOPPED: 'EXITED',
  PAUSED: 'RUNNING',
  PAUSING: 'RUNNING',
};

interface CreatedSnapshot {
  readonly snapshotter: string;
  readonly key: string;
  readonly mounts: readonly unknown[];
}

/** The spec template of the last container spec seen, with what it was made from. */
interface TemplateEntry {
  readonly image: ResolvedImage;
  readonly command: ContainerSpec['command'];
  readonly args: ContainerSpec['args'];
  readonly env: ContainerSpec['env'];
  readonly workingDir: string;
  readonly template: OciSpecTemplate;
}

interface Pod {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A {@link Driver} over containerd's native API; see the module comment. */
export class ContainerdDriver implements Driver {
  readonly kind = 'containerd' as const;
  private readonly client: ContainerdClient;
  private readonly options: ContainerdDriverOptions;
  private readonly images = new Map<string, Promise<ResolvedImage>>();
  private readonly pods = new Map<string, Pod>();
  /**
   * Snapshot of each container this driver created, with the mounts Prepare returned: start and
   * remove need no Containers.Get or Snapshots.Mounts for them (fewer calls per cycle, less of
   * churn's CPU). Containers made elsewhere (a sweep after a crash) are looked up.
   */
  private readonly snapshots = new Map<string, CreatedSnapshot>();
  private lastTemplate: TemplateEntry | undefined;

  /** Creates the driver (connects lazily); USAGE for a relative address. */
  constructor(options: ContainerdDriverOptions) {
    this.options = options;
    this.client = new ContainerdClient(options);
  }

  /**
   * The spec template of `spec`'s containers: the last one made, when `spec` has the same image,
   * command, arguments, environment and working directory objects (a workload's cycles pass
   * the same ones), else a new one.
   */
  private specTemplate(spec: ContainerSpec, image: ResolvedImage): OciSpecTemplate {
    const last = this.lastTemplate;
    if (
      last !== undefined &&
      last.image === image &&
      last.command === spec.command &&
      last.args === spec.args &&
      last.env === spec.env &&
      last.workingDir === spec.workingDir
    ) {
      return last.template;
    }
    const command = [...spec.command, ...spec.args];
    const template = new OciSpecTemplate({
      rootfs: 'rootfs',
      binds: [],
      args: command.length > 0 ? command : [...image.defaultArgs],
      env: [...image.env, ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`)],
      cwd:
        spec.workingDir !== '' ? spec.workingDir : image.workingDir !== '' ? image.workingDir : '/',
      pid: { kind: 'new' },
      ipc: { kind: 'new' },
      uts: { kind: 'new' },
      network: { kind: 'new' },
      security: pauseSecurity,
      readonlyRoot: false,
      tmpfsTmp: false,
    });
    this.lastTemplate = {
      image,
      command: spec.command,
      args: spec.args,
      env: spec.env,
      workingDir: spec.workingDir,
      template,
    };
    return template;
  }

  /** Asks containerd's Version; ENDPOINT_INVALID when it cannot be reached. */
  async connect(options?: CallOptions): Promise<RuntimeInfo> {
    let version: { version: string; revision: string };
    try {
      version = await this.client.call('version', 'Version', {}, call(options));
    } catch (err) {
      if (isChurnError(err, 'CANCELLED')) throw err;
      throw new ChurnError(
        'ENDPOINT_INVALID',
        `cannot use containerd at ${this.client.address}: ${(err as Error).message} (is containerd running, and is this its socket?)`,
        { cause: err },
      );
    }
    const pid = await socketOwnerPid(this.client.address);
    return {
      runtimeName: 'containerd',
      runtimeVersion: version.version,
      runtimeApiVersion: 'containerd.services.v1',
      runtimeHandler: this.options.runtime,
      ...(pid !== undefined ? { pid } : {}),
      host: { shimNamespace: this.options.namespace },
    };
  }

  /** Resolves `image` from the namespace's store (never pulls); returns its digest. */
  async pullImage(image: string, options?: CallOptions): Promise<string> {
    return (await this.image(image, options)).id;
  }

  private image(name: string, options?: CallOptions): Promise<ResolvedImage> {
    let resolved = this.images.get(name);
    if (resolved === undefined) {
      resolved = resolveImage(this.client, name, this.options.snapshotter, call(options));
      // A failed resolution is not cached: importing the image fixes it.
      resolved.catch(() => this.images.delete(name));
      this.images.set(name, resolved);
    }
    return resolved;
  }

  runPod(spec: PodSpec): Promise<string> {
    const id = `pod-${randomBytes(8).toString('hex')}`;
    this.pods.set(id, { id, name: spec.name, labels: { ...spec.labels } });
    return Promise.resolve(id);
  }

  stopPod(podId: string): Promise<void> {
    return this.pods.has(podId)
      ? Promise.resolve()
      : Promise.reject(new ChurnError('NOT_FOUND', `pod "${podId}": not found`));
  }

  removePod(podId: string): Promise<void> {
    this.pods.delete(podId);
    return Promise.resolve();
  }

  async createContainer(
    podId: string,
    pod: PodSpec,
    spec: ContainerSpec,
    options?: CallOptions,
  ): Promise<string> {
    const image = await this.image(spec.image, options);
    const id = `churn-${randomBytes(8).toString('hex')}`;
    const labels = { ...pod.labels, ...spec.labels, [podLabel]: podId, [nameLabel]: spec.name };
    const oci = this.specTemplate(spec, image).bytes({
      hostname: id.slice(0, 63),
      cgroupsPath: `/${this.options.namespace}/${id}`,
    });
    const { snapshotter, runtime } = this.options;
    await this.client.call(
      'containers',
      'Create',
      {
        container: {
          id,
          labels,
          image: spec.image,
          runtime: { name: runtime },
          spec: { typeUrl: specTypeUrl, value: oci },
          snapshotter,
          snapshotKey: id,
        },
      },
      call(options),
    );
    try {
      const { mounts } = await this.client.call<{ mounts: unknown[] }>(
        'snapshots',
        'Prepare',
        { snapshotter, key: id, parent: image.chainId, labels },
        call(options),
      );
      this.snapshots.set(id, { snapshotter, key: id, mounts });
    } catch (err) {
      await this.ignoreNotFound(this.client.call('containers', 'Delete', { id }));
      throw err;
    }
    return id;
  }

  async startContainer(containerId: string, options?: CallOptions): Promise<void> {
    const snapshot = await this.snapshotOf(containerId, options);
    const mounts =
      snapshot.mounts ??
      (
        await this.client.call<{ mounts: unknown[] }>(
          'snapshots',
          'Mounts',
          { snapshotter: snapshot.snapshotter, key: snapshot.key },
          call(options),
        )
      ).mounts;
    await this.client.call(
      'tasks',
      'Create',
      { containerId, rootfs: mounts, stdin: '', stdout: '', stderr: '', terminal: false },
      call(options),
    );
    await this.client.call('tasks', 'Start', { containerId }, call(options));
  }

  async stopContainer(
    containerId: string,
    timeoutSec: number,
    options?: CallOptions,
  ): Promise<void> {
    const task = await this.task(containerId, options);
    if (task === undefined || task.status === 'STOPPED') return;
    if (task.status === 'CREATED') {
      // Never started: nothing to signal, and Wait would block until it is.
      return;
    }
    if (timeoutSec > 0) {
      await this.kill(containerId, SIGTERM, options);
      try {
        await this.client.call('tasks', 'Wait', { containerId }, call(options, timeoutSec * 1000));
        return;
      } catch (err) {
        if (!isChurnError(err, 'DEADLINE_EXCEEDED')) throw err;
      }
    }
    await this.kill(containerId, SIGKILL, options);
    await this.client.call(
      'tasks',
      'Wait',
      { containerId },
      call(options, this.options.callTimeoutMs + timeoutSec * 1000),
    );
  }

  private async kill(containerId: string, signal: number, options?: CallOptions): Promise<void> {
    // NOT_FOUND: the process finished between the status check and the kill.
    await this.ignoreNotFound(
      this.client.call('tasks', 'Kill', { containerId, signal, all: false }, call(options)),
    );
  }

  async removeContainer(containerId: string, options?: CallOptions): Promise<void> {
    const snapshot = await this.snapshotOf(containerId, options);
    // containerd refuses (FAILED_PRECONDITION) to delete a task that still runs; NOT_FOUND: it
    // never had one, or it was deleted already.
    await this.ignoreNotFound(this.client.call('tasks', 'Delete', { containerId }, call(options)));
    await this.client.call('containers', 'Delete', { id: containerId }, call(options));
    this.snapshots.delete(containerId);
    if (snapshot.key !== '') {
      await this.ignoreNotFound(
        this.client.call(
          'snapshots',
          'Remove',
          { snapshotter: snapshot.snapshotter, key: snapshot.key },
          call(options),
        ),
      );
    }
  }

  /** The container's snapshot: remembered when this driver made it, else from Containers.Get. */
  private async snapshotOf(
    containerId: string,
    options?: CallOptions,
  ): Promise<{ snapshotter: string; key: string; mounts?: readonly unknown[] }> {
    const known = this.snapshots.get(containerId);
    if (known !== undefined) return known;
    const container = await this.container(containerId, options);
    return { snapshotter: container.snapshotter, key: container.snapshotKey };
  }

  async containerStatus(containerId: string, options?: CallOptions): Promise<ContainerInfo> {
    const container = await this.container(containerId, options);
    return this.info(container, await this.task(containerId, options));
  }

  /** Lists the namespace's containers matching `filter`, with their tasks' states. */
  async listContainers(filter: ListFilter, options?: CallOptions): Promise<ContainerInfo[]> {
    const selector: Record<string, string> = { ...filter.labelSelector };
    if (filter.podId !== undefined) selector[podLabel] = filter.podId;
    const filters = Object.entries(selector).map(
      ([k, v]) => `labels.${JSON.stringify(k)}==${JSON.stringify(v)}`,
    );
    const [{ containers }, { tasks }] = await Promise.all([
      this.client.call<{ containers: WireContainer[] }>(
        'containers',
        'List',
        { filters: filters.length > 0 ? [filters.join(',')] : [] },
        call(options),
      ),
      this.client.call<{ tasks: WireProcess[] }>('tasks', 'List', { filter: '' }, call(options)),
    ]);
    const taskOf = new Map(tasks.map((t) => [t.id, t]));
    return containers.map((c) => this.info(c, taskOf.get(c.id)));
  }

  listPods(filter: ListFilter): Promise<PodInfo[]> {
    const matches = (pod: Pod): boolean =>
      (filter.podId === undefined || pod.id === filter.podId) &&
      Object.entries(filter.labelSelector ?? {}).every(([k, v]) => pod.labels[k] === v);
    return Promise.resolve(
      [...this.pods.values()]
        .filter(matches)
        .map((p) => ({ id: p.id, name: p.name, state: 'READY' as const, labels: p.labels })),
    );
  }

  /**
   * Runs `command` as an exec process with null IO and waits for it: the exit code is real,
   * stdout and stderr are always '' (capturing them needs FIFOs the driver does not make).
   */
  async exec(
    containerId: string,
    command: readonly string[],
    timeoutSec: number,
    options?: CallOptions,
  ): Promise<ExecOutcome> {
    const execId = `exec-${randomBytes(6).toString('hex')}`;
    const process = {
      terminal: false,
      user: { uid: pauseSecurity.uid, gid: pauseSecurity.gid },
      args: [...command],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
    };
    await this.client.call(
      'tasks',
      'Exec',
      {
        containerId,
        execId,
        stdin: '',
        stdout: '',
        stderr: '',
        terminal: false,
        spec: { typeUrl: processTypeUrl, value: Buffer.from(JSON.stringify(process)) },
      },
      call(options),
    );
    try {
      await this.client.call('tasks', 'Start', { containerId, execId }, call(options));
      const waited = await this.client.call<{ exitStatus: number }>(
        'tasks',
        'Wait',
        { containerId, execId },
        call(options, timeoutSec > 0 ? timeoutSec * 1000 : this.options.callTimeoutMs),
      );
      return { exitCode: waited.exitStatus, stdout: '', stderr: '' };
    } finally {
      await this.ignoreNotFound(
        this.client.call('tasks', 'Kill', { containerId, execId, signal: SIGKILL }),
      ).catch(() => undefined);
      await this.ignoreNotFound(
        this.client.call('tasks', 'DeleteProcess', { containerId, execId }),
      ).catch(() => undefined);
    }
  }

  close(): Promise<void> {
    this.client.close();
    this.pods.clear();
    this.images.clear();
    this.snapshots.clear();
    this.lastTemplate = undefined;
    return Promise.resolve();
  }

  private async container(id: string, options?: CallOptions): Promise<WireContainer> {
    const { container } = await this.client.call<{ container: WireContainer | null }>(
      'containers',
      'Get',
      { id },
      call(options),
    );
    if (container === null) throw new ChurnError('NOT_FOUND', `container "${id}": not found`);
    return container;
  }

  /** The container's task, undefined when it has none. */
  private async task(containerId: string, options?: CallOptions): Promise<WireProcess | undefined> {
    try {
      const { process } = await this.client.call<{ process: WireProcess | null }>(
        'tasks',
        'Get',
        { containerId },
        call(options),
      );
      return process ?? undefined;
    } catch (err) {
      if (isChurnError(err, 'NOT_FOUND')) return undefined;
      throw err;
    }
  }

  private info(c: WireContainer, task: WireProcess | undefined): ContainerInfo {
    return {
      id: c.id,
      podId: c.labels[podLabel] ?? '',
      name: c.labels[nameLabel] ?? c.id,
      state: task === undefined ? 'CREATED' : taskStates[task.status],
      labels: c.labels,
      exitCode: task?.status === 'STOPPED' ? task.exitStatus : 0,
    };
  }

  private async ignoreNotFound(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (!isChurnError(err, 'NOT_FOUND')) throw err;
    }
  }
}

function call(options: CallOptions | undefined, timeoutMs?: number): ContainerdCallOptions {
  return { signal: options?.signal, timeoutMs };
}
