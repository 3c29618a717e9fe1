// Which object-store errors say the credentials were refused, and the bad-input error they become.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BadInputError, ExitCode, exitCodeFor } from '../../../trainer/contract/errors.js';
import { explainRefusal, isRefusedCredentials } from '../../../trainer/storage/refused.js';
import { isRetryable } from '../../../trainer/storage/retry.js';

function awsError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status, attempts: 1 } });
}

const cases: { name: string; error: unknown; refused: boolean }[] = [
  {
    name: 'a wrong secret (SignatureDoesNotMatch) is refused',
    error: awsError('SignatureDoesNotMatch', 403),
    refused: true,
  },
  {
    name: 'an unknown key (InvalidAccessKeyId) is refused',
    error: awsError('InvalidAccessKeyId', 403),
    refused: true,
  },
  {
    name: 'a bucket the identity may not use (AccessDenied) is refused',
    error: awsError('AccessDenied', 403),
    refused: true,
  },
  { name: 'a HEAD answered 403 without a body is refused', error: awsError('Forbidden', 403), refused: true },
  { name: 'a missing key is not a refusal', error: awsError('NoSuchKey', 404), refused: false },
  { name: 'throttling is not a refusal', error: awsError('SlowDown', 503), refused: false },
  { name: 'a non-error is not a refusal', error: 'boom', refused: false },
];
for (const c of cases) {
  test(c.name, () => {
    assert.equal(isRefusedCredentials(c.error), c.refused);
    if (c.refused) assert.equal(isRetryable(c.error), false, 'a refusal must not be retried');
  });
}

test('a refusal becomes bad input (exit 65) naming the bucket and the endpoint, the SDK error its cause', () => {
  const sdk = awsError('SignatureDoesNotMatch', 403, 'The request signature we calculated does not match');
  const error = explainRefusal(sdk, 'snapshots', 'http://127.0.0.1:9000') as BadInputError;
  assert.ok(error instanceof BadInputError);
  assert.equal(exitCodeFor(error), ExitCode.BadInput);
  assert.equal(error.where, 's3://snapshots');
  assert.equal(
    error.message,
    's3://snapshots: the object server at http://127.0.0.1:9000 refused the credentials (SignatureDoesNotMatch: ' +
      'The request signature we calculated does not match); check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ' +
      'in the credentials Secret, and that this identity may use the bucket',
  );
  assert.equal(error.cause, sdk);
});

test('any other error passes through as it is', () => {
  const sdk = awsError('NoSuchKey', 404);
  assert.equal(explainRefusal(sdk, 'b', 'http://x'), sdk);
});
