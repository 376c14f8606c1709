/** `churn cluster run|cleanup`: the scenario on every node of a Kubernetes cluster at once. */
import { defineCommand } from '../command.js';
import type { ClusterArgs } from './cluster-args.js';
import { clusterCleanup } from './cluster-cleanup.js';
import { clusterRun, defaultClusterImage } from './cluster-run.js';

/** The `cluster` command. */
export const clusterCommand = defineCommand<ClusterArgs>({
  command: 'cluster <action> [scenario]',
  describe: 'Run a scenario on every node of a Kubernetes cluster at once, or remove leftovers',
  builder: (yargs) =>
    yargs
      .positional('action', {
        choices: ['run', 'cleanup'] as const,
        describe:
          'run: deploy SCENARIO on the nodes, start them together, collect and merge the reports, remove everything · cleanup: remove what runs left (found by label)',
        demandOption: true,
      })
      .positional('scenario', { type: 'string', describe: 'scenario file (run)' })
      .option('kubeconfig', {
        type: 'string',
        requiresArg: true,
        describe: 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)',
      })
      .option('namespace', {
        alias: 'n',
        type: 'string',
        requiresArg: true,
        default: 'churn',
        describe: 'namespace of the run (created, and removed afterwards, when missing)',
      })
      .option('nodes', {
        type: 'string',
        array: true,
        requiresArg: true,
        coerce: (values: string[]) => values.flatMap((v) => v.split(',')).filter((v) => v !== ''),
        describe: 'node names (comma-separated or repeated); default every Ready node',
      })
      .option('node-selector', {
        type: 'string',
        requiresArg: true,
        describe: 'only nodes with these labels, e.g. pool=soak',
      })
      .option('image', {
        type: 'string',
        requiresArg: true,
        default: defaultClusterImage,
        describe: "churn's image (the Dockerfile's; scripts/churn-image.ts without a registry)",
      })
      .option('image-pull-policy', {
        choices: ['Always', 'IfNotPresent', 'Never'] as const,
        default: 'IfNotPresent' as const,
        describe: 'pull policy of the image',
      })
      .option('socket', {
        type: 'string',
        requiresArg: true,
        default: '/run/containerd/containerd.sock',
        describe:
          "the runtime's socket on the nodes (containerd's for driver containerd, the CRI socket for cri)",
      })
      .option('host-network', {
        type: 'boolean',
        default: false,
        describe: "run the pods in the node's network (clusters without a pod network)",
      })
      .option('start-delay', {
        type: 'string',
        requiresArg: true,
        default: '15s',
        describe:
          'from creating the pods to the instant every node starts (must cover scheduling, image pull and connecting)',
      })
      .option('timeout', {
        type: 'string',
        requiresArg: true,
        describe: "longest the run may take (default: the scenario's duration + start delay + 5m)",
      })
      .option('report-dir', {
        type: 'string',
        requiresArg: true,
        describe: "where the merged and the node reports go (default the scenario's report.dir)",
      })
      .option('run-id', {
        type: 'string',
        requiresArg: true,
        describe: 'run id (cleanup: only this run)',
      })
      .option('duration', {
        type: 'string',
        requiresArg: true,
        group: 'Override the scenario:',
        describe: 'total length of the run',
      })
      .option('concurrency', {
        type: 'number',
        requiresArg: true,
        group: 'Override the scenario:',
        describe: 'closed loop with this many workers per node',
      })
      .option('rate', {
        type: 'number',
        requiresArg: true,
        group: 'Override the scenario:',
        describe: 'open loop at this many cycles/s per node',
      })
      .option('iterations', {
        type: 'number',
        requiresArg: true,
        group: 'Override the scenario:',
        describe: 'cap on the cycles of each node',
      })
      .option('label', {
        type: 'string',
        array: true,
        requiresArg: true,
        group: 'Override the scenario:',
        describe: 'report label key=value (repeatable)',
      })
      .option('allow', {
        type: 'string',
        array: true,
        requiresArg: true,
        group: 'Override the scenario:',
        describe:
          "a run mark that does not fail a node's run: harness-bound or overloaded (repeatable)",
      })
      .option('all', {
        type: 'boolean',
        default: false,
        describe: 'cleanup: look in every namespace, not only --namespace',
      })
      .example(
        '$0 cluster run deploy/kubernetes/base/scenario.yaml --duration 10m',
        'every Ready node, 10 minutes, one merged report',
      )
      .example(
        '$0 cluster run soak.yaml --node-selector pool=soak --start-delay 60s',
        'the nodes of one pool',
      )
      .example(
        '$0 cluster cleanup --all',
        'remove every Job, ConfigMap and pod churn left, in any namespace',
      )
      .epilogue(
        "Each node runs `churn run SCENARIO --start-at T` in a Job pinned to it, against its own runtime (the socket by hostPath; on a kubelet's node use driver containerd in a namespace of its own, see docs/kubernetes.md). Reports come back through the API server (pod logs) and are merged exactly; the merged report lists each node. Ctrl-C deletes the pods: churn in each stops, drains and removes what it created.\nExit codes: 0 ok · 1 a merged threshold or a node failed its run · 2 bad usage or input · 3 a node gave no report or cleanup failed · 130/143 stopped.",
      ),
  run: (args, io) => (args.action === 'cleanup' ? clusterCleanup(args, io) : clusterRun(args, io)),
});
