/**
 * The CRI streaming RPCs (proto/streaming.proto): their service definition, loaded with the
 * same proto-loader options as the rest of the CRI, and the request and response shapes those
 * options give (camelCase fields, defaults filled in). A unit test checks these shapes against
 * what the loader decodes.
 */
import {
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ChurnError } from '../../common/errors.js';
import { codePath } from '../../common/package-files.js';
import { criLoaderOptions } from '../proto-loader.js';

/** Absolute path of the streaming RPCs' .proto. */
export const streamingProtoPath = codePath('cri/proto/streaming.proto');

/** runtime.v1.ExecRequest as decoded. */
export interface ExecRequest {
  containerId: string;
  cmd: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** runtime.v1.AttachRequest as decoded. */
export interface AttachRequest {
  containerId: string;
  stdin: boolean;
  tty: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** runtime.v1.PortForwardRequest as decoded. */
export interface PortForwardRequest {
  podSandboxId: string;
  port: number[];
}

/** The response of each of the three: the streaming URL. */
export interface StreamingUrlResponse {
  url: string;
}

let cached: ServiceClientConstructor | undefined;

/** The client constructor of the three RPCs (its `.service` is what a server adds). Loaded once. */
export function streamingService(): ServiceClientConstructor {
  if (cached === undefined) {
    try {
      const loaded = loadPackageDefinition(loadSync(streamingProtoPath, { ...criLoaderOptions }));
      const v1 = (loaded.runtime as GrpcObject).v1 as GrpcObject;
      cached = v1.RuntimeService as ServiceClientConstructor;
    } catch (err) {
      throw new ChurnError('INTERNAL', `cannot load ${streamingProtoPath}`, { cause: err });
    }
  }
  return cached;
}

/** The service definition of the three RPCs. */
export function streamingServiceDefinition(): ServiceDefinition {
  return streamingService().service;
}
