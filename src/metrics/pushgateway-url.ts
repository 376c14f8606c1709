/**
 * The Pushgateway URL check of `--pushgateway`, apart from the pusher (pushgateway.ts) so that
 * checking churn's flags does not load prom-client: it is loaded only when metrics are exported.
 */
import { ChurnError } from '../common/errors.js';

/**
 * Checks a Pushgateway URL (USAGE when it is not http(s) with a host) and returns it without a
 * trailing slash.
 */
export function checkPushgatewayUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ChurnError(
      'USAGE',
      `--pushgateway ${text}: not a URL; use e.g. http://127.0.0.1:9091`,
    );
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new ChurnError(
      'USAGE',
      `--pushgateway ${text}: use an http:// or https:// URL with a host, e.g. http://127.0.0.1:9091`,
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ChurnError(
      'USAGE',
      `--pushgateway ${text}: no query or fragment, only scheme, host, port and path`,
    );
  }
  return url.href.replace(/\/+$/, '');
}
