/** Containers the core knows, indexed by id, by pod, and by name and attempt within a pod. */
import type { Task, TaskRef } from './executors/executor.js';
import { resolveIdPrefix, type IdResolution } from './id-prefix.js';
import type { Container, ContainerMetadata } from './types.js';

/** A container as the core keeps it: the state clients see, plus its task when it has one. */
export interface ContainerEntry {
  container: Container;
  /** The running (or last) task; undefined before start and after a restart lost it. */
  task: Task | undefined;
  /** Persisted identity of the task while it runs. */
  taskRef: TaskRef | undefined;
  /** Resolves once the task's exit has been recorded (EXITED, persisted, event sent). */
  exitRecorded: Promise<void> | undefined;
}

/** What is persisted of a container. */
export interface ContainerRecord {
  readonly container: Container;
  readonly taskRef: TaskRef | undefined;
}

/** The key under which a container's name and attempt must be unique in its pod. */
export function containerNameKey(podId: string, m: ContainerMetadata): string {
  return JSON.stringify([podId, m.name, m.attempt]);
}

/** In-memory containers; the service persists them. */
export class ContainerStore {
  readonly #byId = new Map<string, ContainerEntry>();
  readonly #byName = new Map<string, string>();
  readonly #byPod = new Map<string, Set<string>>();

  get(id: string): ContainerEntry | undefined {
    return this.#byId.get(id);
  }

  /** The container `name` names: its id or a unique prefix of it (id-prefix.ts). */
  resolve(name: string): IdResolution {
    return resolveIdPrefix(
      name,
      (id) => this.#byId.has(id),
      () => this.#byId.keys(),
    );
  }

  idByName(podId: string, m: ContainerMetadata): string | undefined {
    return this.#byName.get(containerNameKey(podId, m));
  }

  add(entry: ContainerEntry): void {
    const c = entry.container;
    this.#byId.set(c.id, entry);
    this.#byName.set(containerNameKey(c.podId, c.config.metadata), c.id);
    let ids = this.#byPod.get(c.podId);
    if (ids === undefined) {
      ids = new Set();
      this.#byPod.set(c.podId, ids);
    }
    ids.add(c.id);
  }

  delete(id: string): void {
    const entry = this.#byId.get(id);
    if (entry === undefined) return;
    const c = entry.container;
    this.#byId.delete(id);
    const key = containerNameKey(c.podId, c.config.metadata);
    if (this.#byName.get(key) === id) this.#byName.delete(key);
    const ids = this.#byPod.get(c.podId);
    ids?.delete(id);
    if (ids?.size === 0) this.#byPod.delete(c.podId);
  }

  /** Ids of the containers of `podId`. */
  idsOfPod(podId: string): string[] {
    return [...(this.#byPod.get(podId) ?? [])];
  }

  all(): ContainerEntry[] {
    return [...this.#byId.values()];
  }
}
