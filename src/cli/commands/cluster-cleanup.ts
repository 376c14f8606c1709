/** `churn cluster cleanup`: removes what cluster runs left, found by churn's labels. */
import { systemClock } from '../../common/clock.js';
import { cleanUp } from '../../cluster/coordinator.js';
import { connectKube } from '../../cluster/kube-api.js';
import { churnSelector } from '../../cluster/labels.js';
import { ExitCode } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import type { ClusterArgs } from './cluster-args.js';

/** Runs `churn cluster cleanup`; returns the exit code (3 when something could not be removed). */
export async function clusterCleanup(args: ClusterArgs, io: CliIo): Promise<number> {
  const api = await connectKube(args.kubeconfig);
  const namespaces = args.all
    ? await api.namespacesWith(churnSelector(args['run-id']))
    : [args.namespace];
  let code: number = ExitCode.ok;
  let total = 0;
  for (const namespace of namespaces) {
    const { removed, errors } = await cleanUp(api, namespace, args['run-id'], false, systemClock);
    total += removed.jobs + removed.configMaps + removed.pods;
    io.stdout.write(
      `namespace ${namespace}: removed ${removed.jobs} job(s), ${removed.configMaps} configmap(s), ${removed.pods} pod(s)\n`,
    );
    for (const error of errors) {
      io.stderr.write(`churn: ${error}\n`);
      code = ExitCode.broken;
    }
  }
  if (total === 0) io.stdout.write(`nothing of churn's left (${churnSelector(args['run-id'])})\n`);
  return code;
}
