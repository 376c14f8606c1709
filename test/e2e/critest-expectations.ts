// critest specs expected to fail, per target, each with its reason: the ONE place the critest
// e2e test (test/e2e/critest.test.ts) reads. When a fix lands, remove its target from `on`
// (or the entry); the test fails on any listed spec that passes, so this list stays exact.
// Measured on main (fb1225d), 2026-12-05: runc executor 31 passed / 31 failed.
import type { ExpectedFailure } from '../support/critest-report.js';

export const critestExpectedFailures: readonly ExpectedFailure[] = [];
