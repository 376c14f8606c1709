/** Pods the core knows, indexed by id and by their unique metadata. */
import { resolveIdPrefix, type IdResolution } from './id-prefix.js';
import type { ExecutorName, TaskRef } from './executors/executor.js';
import type { PodMetadata, PodSandbox } from './types.js';

/** A pod as stored: the pod, which executor runs its tasks, and its sandbox's identity. */
export interface PodRecord {
  readonly pod: PodSandbox;
  readonly executor: ExecutorName;
  /** The executor's sandbox process (runc's pause), when it has one. */
  readonly sandboxRef?: TaskRef | undefined;
}

/** The key under which pod metadata must be unique. */
export function podMetadataKey(m: PodMetadata): string {
  return JSON.stringify([m.name, m.uid, m.namespace, m.attempt]);
}

/** In-memory pods; the service persists them. */
export class PodStore {
  readonly #byId = new Map<string, PodRecord>();
  readonly #byMetadata = new Map<string, string>();

  get(id: string): PodRecord | undefined {
    return this.#byId.get(id);
  }

  /** The pod `name` names: its id or a unique prefix of it (id-prefix.ts). */
  resolve(name: string): IdResolution {
    return resolveIdPrefix(
      name,
      (id) => this.#byId.has(id),
      () => this.#byId.keys(),
    );
  }

  /** Id of the pod with this metadata, if any. */
  idByMetadata(m: PodMetadata): string | undefined {
    return this.#byMetadata.get(podMetadataKey(m));
  }

  /** Adds or replaces a pod. */
  set(record: PodRecord): void {
    this.#byId.set(record.pod.id, record);
    this.#byMetadata.set(podMetadataKey(record.pod.config.metadata), record.pod.id);
  }

  delete(id: string): void {
    const record = this.#byId.get(id);
    if (record === undefined) return;
    this.#byId.delete(id);
    const key = podMetadataKey(record.pod.config.metadata);
    if (this.#byMetadata.get(key) === id) this.#byMetadata.delete(key);
  }

  all(): PodRecord[] {
    return [...this.#byId.values()];
  }
}
