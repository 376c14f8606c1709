// Pushgateway URLs are checked at the boundary, with a message saying what to use.
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { isChurnError } from '../../../src/common/errors.js';
import { MetricsPusher } from '../../../src/metrics/pushgateway.js';
import { checkPushgatewayUrl } from '../../../src/metrics/pushgateway-url.js';

describe('checkPushgatewayUrl', () => {
  it.each([
    ['http://127.0.0.1:9091', 'http://127.0.0.1:9091'],
    ['http://127.0.0.1:9091/', 'http://127.0.0.1:9091'],
    ['https://gw.example:443/prefix/', 'https://gw.example/prefix'],
  ])('accepts %s', (text, url) => {
    expect(checkPushgatewayUrl(text)).toBe(url);
  });

  it.each([
    ['127.0.0.1:9091', /not a URL|http/],
    ['gateway', /not a URL/],
    ['ftp://host:21', /http:\/\/ or https:\/\//],
    ['http://host:9091/?x=1', /no query/],
  ])('refuses %s', (text, message) => {
    let error: unknown;
    try {
      checkPushgatewayUrl(text);
    } catch (err) {
      error = err;
    }
    expect(isChurnError(error, 'USAGE')).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(`--pushgateway ${text}`);
  });

  it('refuses a push interval under 100 ms', () => {
    expect(
      () =>
        new MetricsPusher({
          url: 'http://127.0.0.1:1',
          registry: new Registry(),
          instance: 'i',
          scenario: 's',
          intervalMs: 10,
        }),
    ).toThrow(/at least 100ms/);
  });
});
