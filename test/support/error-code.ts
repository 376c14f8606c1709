/** The code a promise settles with: 'OK' when it resolves, the ChurnError code when it rejects. */
import { isChurnError } from '../../src/common/errors.js';

export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return isChurnError(err) ? err.code : `not a ChurnError: ${String(err)}`;
  }
  return 'OK';
}
