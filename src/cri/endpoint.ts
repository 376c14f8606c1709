/**
 * CRI endpoints → gRPC targets, for the client. The parser lives in common/cri-endpoint.ts so
 * the scenario schema validates `target.endpoint` by the same rules; this is its name in cri/.
 */
export { parseCriEndpoint, type CriEndpoint } from '../common/cri-endpoint.js';
