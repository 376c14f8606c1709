// The PodMonitor of deploy/kubernetes/components/podmonitor against prometheus-operator's own
// schema (@kubernetes-models/prometheus-operator, validators generated from the operator's
// CRDs). The test cluster has no prometheus-operator, so no PodMonitor CRD for a server-side
// dry-run: this is the check the manifest gets (the e2e test also validates kustomize's output).
import { readFileSync } from 'node:fs';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const file = new URL(
  '../../../deploy/kubernetes/components/podmonitor/podmonitor.yaml',
  import.meta.url,
);

function manifest(): { spec: { podMetricsEndpoints: Record<string, unknown>[] } } {
  return parse(readFileSync(file, 'utf8')) as ReturnType<typeof manifest>;
}

describe('the PodMonitor component', () => {
  it("passes prometheus-operator's schema", () => {
    expect(() => new PodMonitor(manifest() as never).validate()).not.toThrow();
  });

  it('and the schema refuses what the operator would (so the check can fail)', () => {
    const bad = manifest();
    bad.spec.podMetricsEndpoints[0]!['interval'] = '15 seconds';
    expect(() => new PodMonitor(bad as never).validate()).toThrow(/interval must match pattern/);
  });
});
