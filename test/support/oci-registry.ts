/**
 * A read-only OCI distribution registry on 127.0.0.1 (port 0) serving the images of OCI
 * archives (scripts/oci-image.ts), so containerd can pull critest's references from a mirror
 * that never leaves the machine. Answers `GET|HEAD /v2/`, `/v2/<name>/manifests/<tag|digest>`
 * and `/v2/<name>/blobs/<digest>`; `<name>` is the reference's path without its registry
 * (`library/busybox` for docker.io/library/busybox), the `?ns=` containerd adds is ignored
 * (the names of the archives served must not collide across registries).
 *
 *   const registry = await serveOciArchives(['/dir/a.tar', …]);
 *   registry.address   // 127.0.0.1:PORT
 *   await registry.close();
 */
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forEachTarEntry } from '../../src/runtime/images/tar-entries.js';

/** A running registry. */
export interface OciRegistry {
  /** `127.0.0.1:PORT`. */
  readonly address: string;
  /** Requests answered, as `METHOD path status` lines (for failure messages). */
  readonly log: readonly string[];
  close(): Promise<void>;
}

interface Manifest {
  readonly mediaType: string;
  readonly digest: string;
}

/** Splits a normalised reference into registry host, repository path and tag. */
function splitRef(ref: string): { host: string; name: string; tag: string } {
  const slash = ref.indexOf('/');
  const host = ref.slice(0, slash);
  const rest = ref.slice(slash + 1).split('@')[0]!;
  const colon = rest.lastIndexOf(':');
  return { host, name: rest.slice(0, colon), tag: rest.slice(colon + 1) };
}

/** Reads the archives and serves them; see the module comment. */
export async function serveOciArchives(archives: readonly string[]): Promise<OciRegistry> {
  const blobs = new Map<string, Buffer>();
  /** `name:tag` → manifest. */
  const tags = new Map<string, Manifest>();
  const hostOfName = new Map<string, string>();
  for (const archive of archives) {
    const files = new Map<string, Buffer>();
    await forEachTarEntry(createReadStream(archive), [], async (entry) => {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk);
      files.set(entry.header.name.replace(/^\.\//, ''), Buffer.concat(chunks));
    });
    for (const [path, data] of files) {
      const m = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(path);
      if (m !== null) blobs.set(`sha256:${m[1] ?? ''}`, data);
    }
    const index = JSON.parse(files.get('index.json')?.toString('utf8') ?? '{}') as {
      manifests?: { mediaType: string; digest: string; annotations?: Record<string, string> }[];
    };
    for (const desc of index.manifests ?? []) {
      const ref = desc.annotations?.['io.containerd.image.name'];
      if (ref === undefined) continue;
      const { host, name, tag } = splitRef(ref);
      const other = hostOfName.get(name);
      if (other !== undefined && other !== host) {
        throw new Error(`oci-registry: ${name} is served for both ${other} and ${host}`);
      }
      hostOfName.set(name, host);
      tags.set(`${name}:${tag}`, { mediaType: desc.mediaType, digest: desc.digest });
    }
  }
  const mediaTypeOfDigest = new Map([...tags.values()].map((m) => [m.digest, m.mediaType]));

  const log: string[] = [];
  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://registry').pathname;
    const send = (status: number, body: Buffer, headers: Record<string, string> = {}): void => {
      log.push(`${req.method ?? '?'} ${req.url ?? '?'} ${status}`);
      res.writeHead(status, {
        'docker-distribution-api-version': 'registry/2.0',
        'content-length': String(body.length),
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const notFound = (code: string): void =>
      send(404, Buffer.from(JSON.stringify({ errors: [{ code, message: path }] })), {
        'content-type': 'application/json',
      });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, Buffer.alloc(0));
      return;
    }
    if (path === '/v2/' || path === '/v2') {
      send(200, Buffer.from('{}'), { 'content-type': 'application/json' });
      return;
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
    if (m === null) {
      notFound('NAME_UNKNOWN');
      return;
    }
    const [, name, kind, reference] = m as unknown as [string, string, string, string];
    if (kind === 'manifests') {
      const manifest = reference.startsWith('sha256:')
        ? mediaTypeOfDigest.has(reference)
          ? { digest: reference, mediaType: mediaTypeOfDigest.get(reference)! }
          : undefined
        : tags.get(`${name}:${reference}`);
      const body = manifest === undefined ? undefined : blobs.get(manifest.digest);
      if (manifest === undefined || body === undefined) {
        notFound('MANIFEST_UNKNOWN');
        return;
      }
      send(200, body, {
        'content-type': manifest.mediaType,
        'docker-content-digest': manifest.digest,
      });
      return;
    }
    const blob = blobs.get(reference);
    if (blob === undefined) {
      notFound('BLOB_UNKNOWN');
      return;
    }
    send(200, blob, {
      'content-type': 'application/octet-stream',
      'docker-content-digest': reference,
    });
  };

  const server = createServer(answer);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
