/**
 * Which runtime a run measured, for compare: the driver, the runtime's name and the runtime
 * handler. Two runs that differ in any of them measured different runtimes (containerd against
 * CRI-O, CRI against containerd's own API, runc against another handler); the runtime's version
 * is not part of it (an upgrade of one runtime is the ordinary comparison).
 *
 * `churn compare` refuses such a mix unless asked for a cross-runtime comparison
 * (`--across-runtimes`); even then every run of one side must share one runtime.
 */
import { ChurnError } from '../common/errors.js';
import type { Report } from './schema.js';

/** What a run ran on; see the module comment. */
export interface RuntimeIdentity {
  /** `builtin`, `cri`, `containerd`. */
  readonly driver: string;
  /** As the runtime named itself (`containerd`, `cri-o`, `churn-core`); null when unknown. */
  readonly name: string | null;
  /** The runtime handler; '' for the runtime's default, null when unknown. */
  readonly handler: string | null;
}

/** A run's runtime, from its report's environment. */
export function runtimeIdentity(report: Report): RuntimeIdentity {
  const { driver, runtime } = report.environment;
  return { driver, name: runtime.name, handler: runtime.handler };
}

/** Whether `a` and `b` are the same runtime (driver, name and handler all equal). */
export function sameRuntime(a: RuntimeIdentity, b: RuntimeIdentity): boolean {
  return a.driver === b.driver && a.name === b.name && a.handler === b.handler;
}

/** `cri-o (driver cri)`, `containerd (driver cri, handler runc-nopivot)`: for headers. */
export function runtimeLabel(identity: RuntimeIdentity): string {
  const handler =
    identity.handler === null || identity.handler === '' ? '' : `, handler ${identity.handler}`;
  return `${identity.name ?? 'unknown runtime'} (driver ${identity.driver}${handler})`;
}

/** `driver cri, runtime containerd, handler default`: every field named, for refusals. */
export function runtimeFields(identity: RuntimeIdentity): string {
  const handler =
    identity.handler === null ? 'unknown' : identity.handler === '' ? 'default' : identity.handler;
  return `driver ${identity.driver}, runtime ${identity.name ?? 'unknown'}, handler ${handler}`;
}

/** The runtimes of a cross-runtime comparison, one per side. */
export interface SideRuntimes {
  readonly base: RuntimeIdentity;
  readonly candidate: RuntimeIdentity;
}

/** A report and what to call it in messages. */
interface Named {
  readonly report: Report;
  readonly source: string;
}

/** The flag that asks for a cross-runtime comparison, named in refusals. */
export const acrossRuntimesFlag = '--across-runtimes';

/**
 * Checks the runtimes of the two sides of a comparison: every run of a side must share one
 * runtime (else NOT_COMPARABLE naming two runs that differ); the sides must share it too
 * unless `across` (else NOT_COMPARABLE naming both sides' runtimes and {@link acrossRuntimesFlag}).
 * Returns the sides' runtimes when they differ (a cross-runtime comparison), else undefined.
 */
export function checkSideRuntimes(
  base: readonly Named[],
  candidate: readonly Named[],
  across: boolean,
): SideRuntimes | undefined {
  const sideRuntime = (label: string, side: readonly Named[]): RuntimeIdentity => {
    const first = runtimeIdentity(side[0]!.report);
    for (const other of side.slice(1)) {
      const identity = runtimeIdentity(other.report);
      if (!sameRuntime(first, identity)) {
        throw new ChurnError(
          'NOT_COMPARABLE',
          `cannot compare: the ${label} side mixes runtimes: ${side[0]!.source} ran ${runtimeFields(first)} but ${other.source} ran ${runtimeFields(identity)} (every run of a side must measure the same runtime, even with ${acrossRuntimesFlag})`,
        );
      }
    }
    return first;
  };
  const runtimes = {
    base: sideRuntime('base', base),
    candidate: sideRuntime('candidate', candidate),
  };
  if (sameRuntime(runtimes.base, runtimes.candidate)) return undefined;
  if (!across) {
    throw new ChurnError(
      'NOT_COMPARABLE',
      `cannot compare runs of different runtimes unless asked: base ${base[0]!.source} ran ${runtimeFields(runtimes.base)}; candidate ${candidate[0]!.source} ran ${runtimeFields(runtimes.candidate)}. To compare the runtimes on purpose: churn compare ${acrossRuntimesFlag}`,
    );
  }
  return runtimes;
}
