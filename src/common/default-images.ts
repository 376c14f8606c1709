/**
 * The image a workload runs when its scenario names none, per driver: the scenario resolves it
 * (scenario/schema.ts), and a cross-runtime comparison counts two drivers' defaults as one
 * image (report/comparable.ts).
 */

/** Image a workload runs when it names none and the driver is builtin: the host's rootfs. */
export const builtinDefaultImage = 'host';
/** Image a workload runs when it names none and the driver is cri (or containerd). */
export const criDefaultImage = 'docker.io/library/busybox:latest';

/** Image a workload runs when it names none, on `driver` (builtin: the host's; else busybox). */
export function defaultImageFor(driver: string): string {
  return driver === 'builtin' ? builtinDefaultImage : criDefaultImage;
}
