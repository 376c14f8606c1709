/**
 * The CRI gRPC server: a thin layer over a {@link RuntimeApi}. Every RPC decodes and
 * validates its request (wire-to-core.ts), calls the core once, and encodes the result
 * (core-to-wire.ts); errors become gRPC status in status.ts. No runtime logic lives here.
 *
 * It listens on a unix socket created with mode 0600 (unix-socket.ts); each connection goes
 * through connection-gate.ts, so clients that send the socket path as `:authority` (grpc-go:
 * the kubelet, crictl, critest) are answered too. It shuts down gracefully: new calls are refused, in-flight calls finish (or are cut off after a grace
 * period), the socket file is removed. Closing the core is the owner's job.
 */
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { lstat, rm } from 'node:fs/promises';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { ChurnError } from '../common/errors.js';
import type { RuntimeApi } from '../runtime/api.js';
import {
  encodeContainer,
  encodeContainerStats,
  encodeContainerStatus,
  encodeFilesystemUsage,
  encodeImage,
  encodePodSandbox,
  encodePodSandboxStatus,
} from './core-to-wire.js';
import type { ImageServiceHandlers } from './generated/runtime/v1/ImageService.js';
import type { RuntimeServiceHandlers } from './generated/runtime/v1/RuntimeService.js';
import { gateConnection } from './connection-gate.js';
import { criPackage } from './proto-package.js';
import { streamingHandlers } from './streaming/streaming-handlers.js';
import { streamingServiceDefinition } from './streaming/streaming-proto.js';
import { StreamingServer } from './streaming/streaming-server.js';
import { unary, type ErrorHook } from './unary-handler.js';
import { bindPrivateSocket, claimSocketPath } from './unix-socket.js';
import {
  decodeContainerConfig,
  decodeContainerFilter,
  decodeContainerStatsFilter,
  decodeImageRef,
  decodePodFilter,
  decodePodSandboxConfig,
  decodeTimeoutSec,
  invalidField,
  requireString,
} from './wire-to-core.js';

/** Options of {@link CriServer.listen}. */
export interface CriServerOptions {
  /** Absolute path of the unix socket to create. */
  readonly socketPath: string;
  /**
   * Called for each call that failed with an error that is not a ChurnError, or is INTERNAL
   * (a bug or an unexpected failure in the core), for the daemon's log. Deliberate answers
   * (NOT_FOUND, FAILED_PRECONDITION, …) are not.
   */
  readonly onInternalError?: (method: string, err: unknown) => void;
  /**
   * Where the streaming server of Exec, Attach and PortForward listens (loopback only):
   * default 127.0.0.1 on a free port; `false` serves no streaming (those RPCs are then
   * UNIMPLEMENTED).
   */
  readonly streaming?: { readonly host?: string; readonly port?: number } | false;
  /** Hears failures inside streams (a command that could not run, a port not reached). */
  readonly onStreamError?: (kind: string, err: unknown) => void;
}

/** Maximum message size the server accepts and sends: 16 MiB, as containerd. */
const maxMessageBytes = 16 * 1024 * 1024;

/** A running CRI server; see the module comment. */
export class CriServer {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly listener: NetServer,
    private readonly pending: Set<Socket>,
    /** The socket path it listens on. */
    readonly socketPath: string,
    private readonly socketIno: number,
    /** The streaming server of Exec, Attach and PortForward, unless turned off. */
    readonly streaming: StreamingServer | undefined,
  ) {}

  /**
   * Serves `api` on `options.socketPath`. Rejects with ENDPOINT_INVALID when another server
   * answers there or the path is not a socket, IO when the socket cannot be created.
   */
  static async listen(api: RuntimeApi, options: CriServerOptions): Promise<CriServer> {
    const path = options.socketPath;
    await claimSocketPath(path);
    const server = new Server({
      'grpc.max_receive_message_length': maxMessageBytes,
      'grpc.max_send_message_length': maxMessageBytes,
      'grpc.enable_channelz': 0,
    });
    const pkg = criPackage();
    const onError = options.onInternalError ?? (() => undefined);
    server.addService(pkg.RuntimeService.service, runtimeHandlers(api, onError));
    server.addService(pkg.ImageService.service, imageHandlers(api, onError));
    let streaming: StreamingServer | undefined;
    if (options.streaming !== false) {
      streaming = await StreamingServer.listen(api, {
        ...options.streaming,
        ...(options.onStreamError === undefined ? {} : { onError: options.onStreamError }),
      });
      server.addService(
        streamingServiceDefinition(),
        streamingHandlers(api, streaming, onError) as unknown as UntypedServiceImplementation,
      );
    }
    const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
    const pending = new Set<Socket>();
    const listener = createServer((socket) =>
      gateConnection(socket, (c) => injector.injectConnection(c), pending),
    );
    try {
      await bindPrivateSocket(
        path,
        (tempPath) =>
          new Promise<void>((resolve, reject) => {
            listener.once('error', reject);
            listener.listen(tempPath, () => {
              listener.off('error', reject);
              resolve();
            });
          }),
      );
    } catch (err) {
      listener.close();
      server.forceShutdown();
      await streaming?.close();
      throw new ChurnError('IO', `cannot listen on ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const { ino } = await lstat(path);
    return new CriServer(server, listener, pending, path, ino, streaming);
  }

  /**
   * Stops accepting calls, lets in-flight calls finish for up to `graceMs` (then cuts them
   * off) and removes the socket file. Idempotent.
   */
  close(graceMs = 10_000): Promise<void> {
    this.closing ??= this.shutdown(graceMs);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    // No new connections; connections still being read (no request yet) are dropped.
    this.listener.close();
    for (const socket of this.pending) socket.destroy();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await this.streaming?.close();
    // Remove the socket only if it is still ours (not replaced by a newer server).
    try {
      const { ino } = await lstat(this.socketPath);
      if (ino === this.socketIno) await rm(this.socketPath, { force: true });
    } catch {
      // Already gone.
    }
  }
}

/** The RuntimeService handlers over `api`. */
export function runtimeHandlers(api: RuntimeApi, onError: ErrorHook): RuntimeServiceHandlers {
  return {
    Version: unary('Version', onError, async () => {
      const v = await api.version();
      return {
        version: v.version,
        runtimeName: v.runtimeName,
        runtimeVersion: v.runtimeVersion,
        runtimeApiVersion: v.runtimeApiVersion,
      };
    }),
    Status: unary('Status', onError, async () => {
      const s = await api.status();
      return { status: { conditions: s.conditions.map((c) => ({ ...c })) }, info: s.info };
    }),
    RunPodSandbox: unary('RunPodSandbox', onError, async (req) => {
      const config = decodePodSandboxConfig('RunPodSandbox', 'config', req.config);
      return { podSandboxId: await api.runPodSandbox(config, req.runtimeHandler) };
    }),
    StopPodSandbox: unary('StopPodSandbox', onError, async (req) => {
      await api.stopPodSandbox(requireString('StopPodSandbox', 'pod_sandbox_id', req.podSandboxId));
      return {};
    }),
    RemovePodSandbox: unary('RemovePodSandbox', onError, async (req) => {
      const id = requireString('RemovePodSandbox', 'pod_sandbox_id', req.podSandboxId);
      await api.removePodSandbox(id);
      return {};
    }),
    PodSandboxStatus: unary('PodSandboxStatus', onError, async (req) => {
      const id = requireString('PodSandboxStatus', 'pod_sandbox_id', req.podSandboxId);
      return { status: encodePodSandboxStatus(await api.podSandboxStatus(id)), info: {} };
    }),
    ListPodSandbox: unary('ListPodSandbox', onError, async (req) => {
      const pods = await api.listPodSandbox(decodePodFilter(req.filter));
      return { items: pods.map(encodePodSandbox) };
    }),
    CreateContainer: unary('CreateContainer', onError, async (req) => {
      const rpc = 'CreateContainer';
      const podId = requireString(rpc, 'pod_sandbox_id', req.podSandboxId);
      const config = decodeContainerConfig(rpc, req.config);
      const podConfig = decodePodSandboxConfig(rpc, 'sandbox_config', req.sandboxConfig, true);
      return { containerId: await api.createContainer(podId, config, podConfig) };
    }),
    StartContainer: unary('StartContainer', onError, async (req) => {
      await api.startContainer(requireString('StartContainer', 'container_id', req.containerId));
      return {};
    }),
    StopContainer: unary('StopContainer', onError, async (req, call) => {
      const id = requireString('StopContainer', 'container_id', req.containerId);
      // A client that gives up (deadline, cancel) ends the wait for the grace period, as
      // containerd does when the request's context ends; the task is killed by a later stop.
      const cancelled = new AbortController();
      call.once('cancelled', () => cancelled.abort());
      await api.stopContainer(id, decodeTimeoutSec(req.timeout), cancelled.signal);
      return {};
    }),
    RemoveContainer: unary('RemoveContainer', onError, async (req) => {
      await api.removeContainer(requireString('RemoveContainer', 'container_id', req.containerId));
      return {};
    }),
    ContainerStatus: unary('ContainerStatus', onError, async (req) => {
      const id = requireString('ContainerStatus', 'container_id', req.containerId);
      return { status: encodeContainerStatus(await api.containerStatus(id)), info: {} };
    }),
    ListContainers: unary('ListContainers', onError, async (req) => {
      const containers = await api.listContainers(decodeContainerFilter(req.filter));
      return { containers: containers.map(encodeContainer) };
    }),
    ReopenContainerLog: unary('ReopenContainerLog', onError, async (req) => {
      await api.reopenContainerLog(
        requireString('ReopenContainerLog', 'container_id', req.containerId),
      );
      return {};
    }),
    ExecSync: unary('ExecSync', onError, async (req) => {
      const id = requireString('ExecSync', 'container_id', req.containerId);
      if (req.cmd.length === 0) throw invalidField('ExecSync', 'cmd', 'must not be empty');
      const result = await api.execSync(id, req.cmd, decodeTimeoutSec(req.timeout));
      return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
    }),
    ContainerStats: unary('ContainerStats', onError, async (req) => {
      const id = requireString('ContainerStats', 'container_id', req.containerId);
      return { stats: encodeContainerStats(await api.containerStats(id)) };
    }),
    ListContainerStats: unary('ListContainerStats', onError, async (req) => {
      const stats = await api.listContainerStats(decodeContainerStatsFilter(req.filter));
      return { stats: stats.map(encodeContainerStats) };
    }),
  };
}

/** The ImageService handlers over `api`. */
export function imageHandlers(api: RuntimeApi, onError: ErrorHook): ImageServiceHandlers {
  return {
    ListImages: unary('ListImages', onError, async (req) => {
      const ref = req.filter?.image?.image ?? '';
      if (ref !== '') {
        const image = await api.imageStatus(ref);
        return { images: image === undefined ? [] : [encodeImage(image)] };
      }
      return { images: (await api.listImages()).map(encodeImage) };
    }),
    ImageStatus: unary('ImageStatus', onError, async (req) => {
      const image = await api.imageStatus(decodeImageRef('ImageStatus', 'image', req.image));
      // An absent image is not an error in CRI: the response just carries no image.
      return { image: image === undefined ? null : encodeImage(image), info: {} };
    }),
    PullImage: unary('PullImage', onError, async (req) => {
      return { imageRef: await api.pullImage(decodeImageRef('PullImage', 'image', req.image)) };
    }),
    RemoveImage: unary('RemoveImage', onError, async (req) => {
      await api.removeImage(decodeImageRef('RemoveImage', 'image', req.image));
      return {};
    }),
    ImageFsInfo: unary('ImageFsInfo', onError, async () => {
      const usage = await api.imageFsInfo();
      return { imageFilesystems: usage.map(encodeFilesystemUsage), containerFilesystems: [] };
    }),
  };
}
