/**
 * The scenario `churn run` runs when given no file: the shipped scenarios/smoke.yaml, read
 * from the package itself (next to dist/ or src/), so the built-in default and the file
 * users read are the same bytes and cannot drift apart.
 */
import { packagePath } from '../common/package-files.js';
import { loadScenarioFile } from './load.js';
import type { ScenarioOverrides } from './overrides.js';
import type { Scenario } from './schema.js';

/** Absolute path of the shipped smoke scenario. */
export function defaultScenarioPath(): string {
  return packagePath('scenarios/smoke.yaml');
}

/**
 * The built-in smoke scenario (about 10 s against the builtin core, closed loop, the default
 * 7-step cycle, zero errors expected) with `overrides` applied. Throws like
 * {@link loadScenarioFile}.
 */
export function defaultScenario(overrides: ScenarioOverrides = {}): Promise<Scenario> {
  return loadScenarioFile(defaultScenarioPath(), overrides);
}
