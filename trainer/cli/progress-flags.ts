// --progress-url, --progress-token and --progress-ca: where a pod reports to the operator. Shared by
// `caffe train` and `caffe imagenet finalize`.
import { UsageError } from '../contract/errors.js';
import type { ProgressEndpoint } from '../train/progress-report.js';

/** The three flags go together, and the URL is https: the token is a credential. */
export function progressEndpointFlags(
  url: string | undefined,
  tokenFile: string | undefined,
  caFile: string | undefined,
  usage: string,
): ProgressEndpoint | undefined {
  if (url === undefined && tokenFile === undefined && caFile === undefined) return undefined;
  if (!url || !tokenFile || !caFile) {
    throw new UsageError(`--progress-url, --progress-token and --progress-ca go together\nusage: ${usage}`);
  }
  if (!url.startsWith('https://')) {
    throw new UsageError(`--progress-url: expected an https:// URL, received '${url}'`);
  }
  return { url, tokenFile, caFile };
}
