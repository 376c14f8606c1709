// How a failed call's gRPC details read in churn's messages: grpc-js's empty notes go.
import { describe, expect, it } from 'vitest';
import { readableDetails } from '../../../src/cri/client.js';

describe('readableDetails', () => {
  it.each([
    [
      'No connection established. Last error: Error: connect ENOENT /tmp/x.sock. Resolution note: ',
      'No connection established. Last error: connect ENOENT /tmp/x.sock',
    ],
    [
      'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:9. Resolution note:',
      'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:9',
    ],
    ['No addresses resolved. Resolution note: ', 'No addresses resolved'],
  ])('drops the empty trailing note of %j', (details, readable) => {
    expect(readableDetails(details)).toBe(readable);
  });

  it.each([
    'No addresses resolved. Resolution note: DNS lookup of x failed',
    'container "c1": cannot start from state EXITED',
    'Error: the runtime says so',
    '',
  ])('keeps %j as the runtime or grpc-js said it', (details) => {
    expect(readableDetails(details)).toBe(details);
  });
});
