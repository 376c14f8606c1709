/**
 * The scenario as the pods read it: the user's file, unchanged but for the runtime's address,
 * which becomes the socket the pod mounts from its node (comments and key order kept).
 */
import { parseDocument } from 'yaml';
import { ChurnError } from '../common/errors.js';
import type { Scenario } from '../scenario/schema.js';

/**
 * `text` with `target.address` (driver containerd) or `target.endpoint` (driver cri) set to
 * `socketMountPath`. Throws USAGE for the builtin driver: on a node, churn drives the node's
 * runtime, not a core of its own.
 */
export function podScenarioYaml(text: string, scenario: Scenario, socketMountPath: string): string {
  const doc = parseDocument(text);
  switch (scenario.target.driver) {
    case 'containerd':
      doc.setIn(['target', 'address'], socketMountPath);
      break;
    case 'cri':
      doc.setIn(['target', 'endpoint'], `unix://${socketMountPath}`);
      break;
    default:
      throw new ChurnError(
        'USAGE',
        `scenario ${scenario.name}: target.driver ${scenario.target.driver} runs no node runtime; a cluster run needs driver containerd (recommended on a kubelet's node, see docs/kubernetes.md) or cri`,
      );
  }
  return doc.toString();
}
