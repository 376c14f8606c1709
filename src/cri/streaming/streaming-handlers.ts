/**
 * The CRI handlers of Exec, Attach and PortForward: each checks its request before it hands out
 * a URL, as containerd does (the container RUNNING, by the core's lifecycle rules and compat
 * mode; the pod READY), and answers the streaming server's URL for it. The streams themselves
 * are the streaming server's.
 */
import type { handleUnaryCall } from '@grpc/grpc-js';
import { ChurnError } from '../../common/errors.js';
import type { RuntimeApi } from '../../runtime/api.js';
import { unary, type ErrorHook } from '../unary-handler.js';
import { invalidField, requireString } from '../wire-to-core.js';
import type {
  AttachRequest,
  ExecRequest,
  PortForwardRequest,
  StreamingUrlResponse,
} from './streaming-proto.js';
import type { StreamingServer } from './streaming-server.js';

/** The handlers, keyed by method name, for grpc-js `addService`. */
export interface StreamingHandlers {
  Exec: handleUnaryCall<ExecRequest, StreamingUrlResponse>;
  Attach: handleUnaryCall<AttachRequest, StreamingUrlResponse>;
  PortForward: handleUnaryCall<PortForwardRequest, StreamingUrlResponse>;
}

/** The handlers over `api`, giving out URLs of `streaming`. */
export function streamingHandlers(
  api: RuntimeApi,
  streaming: StreamingServer,
  onError: ErrorHook,
): StreamingHandlers {
  return {
    Exec: unary<ExecRequest, StreamingUrlResponse>('Exec', onError, async (req) => {
      const containerId = requireString('Exec', 'container_id', req.containerId);
      if (req.cmd.length === 0) throw invalidField('Exec', 'cmd', 'must not be empty');
      if (!req.stdin && !req.stdout && !req.stderr) {
        throw invalidField('Exec', 'stdin, stdout and stderr', 'must not all be false');
      }
      await api.checkExec(containerId, req.cmd);
      // With a tty, stderr is merged into stdout (CRI: "stderr MUST be false").
      const url = streaming.url({
        kind: 'exec',
        containerId,
        cmd: [...req.cmd],
        tty: req.tty,
        stdin: req.stdin,
        stdout: req.stdout,
        stderr: req.stderr && !req.tty,
      });
      return { url };
    }),
    Attach: unary<AttachRequest, StreamingUrlResponse>('Attach', onError, async (req) => {
      const containerId = requireString('Attach', 'container_id', req.containerId);
      if (!req.stdin && !req.stdout && !req.stderr) {
        throw invalidField('Attach', 'stdin, stdout and stderr', 'must not all be false');
      }
      await api.checkAttach(containerId);
      const url = streaming.url({
        kind: 'attach',
        containerId,
        tty: req.tty,
        stdin: req.stdin,
        stdout: req.stdout,
        stderr: req.stderr && !req.tty,
      });
      return { url };
    }),
    PortForward: unary<PortForwardRequest, StreamingUrlResponse>(
      'PortForward',
      onError,
      async (req) => {
        const podId = requireString('PortForward', 'pod_sandbox_id', req.podSandboxId);
        for (const port of req.port) {
          if (!Number.isInteger(port) || port < 1 || port > 65535) {
            throw invalidField('PortForward', 'port', `${port} is not in 1..65535`);
          }
        }
        const pod = await api.podSandboxStatus(podId);
        if (pod.state !== 'READY') {
          throw new ChurnError(
            'FAILED_PRECONDITION',
            `PortForward: pod "${podId}" is ${pod.state}, not READY`,
          );
        }
        return { url: streaming.url({ kind: 'portforward', podId }) };
      },
    ),
  };
}
