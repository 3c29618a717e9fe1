// The object store refusing who we are: a wrong key or secret, or a bucket these credentials may not use.
// No retry fixes that (the SDK's standard mode does not retry a 403 either), so it is bad input, the
// pod's exit code 65, and the operator fails the job at once instead of restarting it.
import { BadInputError } from '../contract/errors.js';

/** Error codes S3 answers when the credentials are wrong or lack the permission. */
const REFUSED_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'AllAccessDisabled',
  'InvalidSecurity',
]);

/** Whether the store refused the request's credentials: a refused code, or a bare 403 (HEAD has no body). */
export function isRefusedCredentials(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return REFUSED_CODES.has(error.name) || status === 403;
}

/**
 * `error` as a BadInputError naming the bucket and the endpoint when the store refused the credentials;
 * any other error as it is. The SDK's error stays the cause (its `$metadata.attempts` included).
 */
export function explainRefusal(error: unknown, bucket: string, endpoint: string): unknown {
  if (!isRefusedCredentials(error)) return error;
  const e = error as Error;
  const detail = e.message && e.message !== e.name ? `${e.name}: ${e.message}` : e.name;
  return new BadInputError(
    `the object server at ${endpoint} refused the credentials (${detail}); check AWS_ACCESS_KEY_ID and ` +
      'AWS_SECRET_ACCESS_KEY in the credentials Secret, and that this identity may use the bucket',
    `s3://${bucket}`,
    { cause: error },
  );
}
