/**
 * The built-in core served over CRI in-process, on a unix socket in a fresh temp dir, for
 * integration tests: `const s = await serveCore(onTestFinished)`. Cleanup (server, core, temp
 * dir) is registered through `onCleanup` when the resources are made.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriServer } from '../../src/cri/server.js';
import type { RuntimeServiceOptions } from '../../src/runtime/options.js';
import { RuntimeService } from '../../src/runtime/service.js';

/** A served core. */
export interface ServedCore {
  readonly core: RuntimeService;
  /** The current server (replaced by {@link ServedCore.restartServer}). */
  readonly server: CriServer;
  readonly dir: string;
  readonly socketPath: string;
  /** `unix:///…` of the socket. */
  readonly endpoint: string;
  /** Closes the server only (the core keeps running): the runtime "goes away". */
  stopServer(): Promise<void>;
  /** Serves the same core on the same socket again. */
  restartServer(): Promise<void>;
}

/** Opens a core and serves it; everything is closed and removed through `onCleanup`. */
export async function serveCore(
  onCleanup: (fn: () => Promise<void>) => void,
  options: Partial<RuntimeServiceOptions> = {},
): Promise<ServedCore> {
  const dir = await mkdtemp(join(tmpdir(), 'churn-cri-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  const core = await RuntimeService.open({ stateDir: join(dir, 'state'), ...options });
  onCleanup(() => core.close());
  const socketPath = join(dir, 'cri.sock');
  let server = await CriServer.listen(core, { socketPath });
  onCleanup(() => server.close(1000));
  return {
    core,
    get server() {
      return server;
    },
    dir,
    socketPath,
    endpoint: `unix://${socketPath}`,
    stopServer: () => server.close(1000),
    async restartServer() {
      await server.close(1000);
      server = await CriServer.listen(core, { socketPath });
    },
  };
}
