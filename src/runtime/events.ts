/** Lifecycle events: the core publishes one for every transition of a pod, container or image. */
import type { LifecycleEvent } from './types.js';

/** A set of listeners; a listener that throws does not stop the others or the core. */
export class EventBus {
  readonly #listeners = new Set<(event: LifecycleEvent) => void>();

  /** Adds `listener`; returns the function that removes it. */
  subscribe(listener: (event: LifecycleEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Delivers `event` to every listener, synchronously. */
  publish(event: LifecycleEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not break the lifecycle it observes.
      }
    }
  }
}
