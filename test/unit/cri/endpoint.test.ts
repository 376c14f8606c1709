import { describe, expect, it } from 'vitest';
import { isChurnError } from '../../../src/common/errors.js';
import { parseCriEndpoint } from '../../../src/cri/endpoint.js';

describe('parseCriEndpoint', () => {
  it.each([
    ['unix:///run/containerd/containerd.sock', '/run/containerd/containerd.sock'],
    ['unix:/run/containerd/containerd.sock', '/run/containerd/containerd.sock'],
    ['/run/containerd/containerd.sock', '/run/containerd/containerd.sock'],
    ['unix:///tmp//a/../b.sock', '/tmp/b.sock'],
  ])('accepts the unix socket %s', (text, socketPath) => {
    const endpoint = parseCriEndpoint(text);
    expect(endpoint).toEqual({ kind: 'unix', socketPath, target: `unix://${socketPath}` });
  });

  it.each([
    ['tcp://127.0.0.1:10010', '127.0.0.1:10010'],
    ['127.0.0.5:1', '127.0.0.5:1'],
    ['localhost:8080', '127.0.0.1:8080'],
    ['tcp://[::1]:9000', 'ipv6:[::1]:9000'],
  ])('accepts the loopback address %s', (text, target) => {
    const endpoint = parseCriEndpoint(text);
    expect(endpoint.kind).toBe('tcp');
    expect(endpoint.target).toBe(target);
  });

  it.each([
    ['', 'empty'],
    ['unix://relative/path.sock', 'absolute'],
    ['unix:relative.sock', 'absolute'],
    ['tcp://10.0.0.1:10010', 'not a loopback'],
    ['example.com:443', 'not a loopback'],
    ['tcp://[2001:db8::1]:80', 'not a loopback'],
    ['http://127.0.0.1:80', 'unsupported scheme'],
    ['npipe:////./pipe/containerd', 'unsupported scheme'],
    ['127.0.0.1:99999', 'out of range'],
    ['127.0.0.1', 'not a unix socket or a host:port'],
  ])('refuses %j with ENDPOINT_INVALID (%s)', (text, problem) => {
    let caught: unknown;
    try {
      parseCriEndpoint(text);
    } catch (err) {
      caught = err;
    }
    expect(isChurnError(caught, 'ENDPOINT_INVALID')).toBe(true);
    expect((caught as Error).message).toContain(problem);
    expect((caught as Error).message).toContain('unix:///');
  });
});
