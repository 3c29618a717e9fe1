// Whether a progress report may change a job's status: the pure check, one row per refusal.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  boundPodOf,
  judgeReport,
  POD_NAME_EXTRA,
  POD_UID_EXTRA,
  type ReportFacts,
} from '../../../operator/progress/authorize.js';

const review = {
  authenticated: true,
  audiences: ['brewery-operator'],
  user: {
    username: 'system:serviceaccount:team-a:default',
    extra: { [POD_NAME_EXTRA]: ['job-trainer-2'], [POD_UID_EXTRA]: ['pod-uid'] },
  },
};
const facts = (overrides: Partial<ReportFacts> = {}): ReportFacts => ({
  target: { namespace: 'team-a', name: 'job' },
  audience: 'brewery-operator',
  hasToken: true,
  review,
  pod: { namespace: 'team-a', name: 'job-trainer-2', uid: 'pod-uid', controllerUid: 'job-uid' },
  job: { uid: 'job-uid', currentPod: 'job-trainer-2', finished: false },
  ...overrides,
});

describe('judging a progress report', () => {
  test("the job's current pod, with a token for the operator, is accepted", () => {
    assert.deepEqual(judgeReport(facts()), { accepted: true, pod: 'job-trainer-2' });
  });

  const refused: [string, Partial<ReportFacts>, number, string][] = [
    ['no token', { hasToken: false }, 401, 'NoToken'],
    [
      'a token the apiserver does not accept',
      { review: { authenticated: false, error: 'expired' } },
      401,
      'InvalidToken',
    ],
    [
      'a token for another audience',
      { review: { ...review, audiences: ['https://kubernetes.default.svc'] } },
      401,
      'InvalidToken',
    ],
    [
      'a service-account token bound to no pod',
      { review: { ...review, user: { username: 'system:serviceaccount:team-a:default' } } },
      403,
      'NotAPodToken',
    ],
    ['a token whose pod is gone', { pod: undefined }, 403, 'PodGone'],
    [
      'a token whose pod name now belongs to a new pod',
      { pod: { namespace: 'team-a', name: 'job-trainer-2', uid: 'another-uid', controllerUid: 'job-uid' } },
      403,
      'PodGone',
    ],
    ['a pod of another namespace', { target: { namespace: 'team-b', name: 'job' } }, 403, 'WrongJob'],
    [
      'a pod of another job',
      { pod: { namespace: 'team-a', name: 'job-trainer-2', uid: 'pod-uid', controllerUid: 'other-uid' } },
      403,
      'WrongJob',
    ],
    ['a job that does not exist', { job: undefined }, 404, 'JobNotFound'],
    [
      'a finished job',
      { job: { uid: 'job-uid', currentPod: 'job-trainer-2', finished: true } },
      409,
      'JobFinished',
    ],
    [
      'a pod the job has replaced',
      { job: { uid: 'job-uid', currentPod: 'job-trainer-3', finished: false } },
      409,
      'NotCurrentPod',
    ],
  ];
  for (const [name, overrides, httpStatus, reason] of refused) {
    test(`${name} is refused: ${httpStatus} ${reason}`, () => {
      const verdict = judgeReport(facts(overrides));
      assert.equal(verdict.accepted, false);
      assert.equal(!verdict.accepted && verdict.httpStatus, httpStatus);
      assert.equal(!verdict.accepted && verdict.reason, reason);
    });
  }

  const datasetFacts = (overrides: Partial<ReportFacts> = {}): ReportFacts =>
    facts({
      target: { namespace: 'team-a', name: 'images', kind: 'ImageNetDataset' },
      pod: { namespace: 'team-a', name: 'images-finalize-x', uid: 'pod-uid', controllerUid: 'dataset-uid' },
      job: { uid: 'dataset-uid', finished: false },
      ...overrides,
    });

  test("a pod of the dataset's finalize Job reports its counts; it need not be any job's current pod", () => {
    assert.deepEqual(judgeReport(datasetFacts()), { accepted: true, pod: 'images-finalize-x' });
  });

  test("a pod of another dataset's finalize Job, or of none, is refused: 403 WrongJob", () => {
    for (const controllerUid of ['other-dataset-uid', undefined]) {
      const pod = { namespace: 'team-a', name: 'images-finalize-x', uid: 'pod-uid', controllerUid };
      const verdict = judgeReport(datasetFacts({ pod }));
      assert.equal(!verdict.accepted && verdict.reason, 'WrongJob');
      assert.match(
        !verdict.accepted ? verdict.message : '',
        /not a pod of the finalize Job of team-a\/images/,
      );
    }
  });

  test('a dataset that is Ready or Failed takes no counts: 409 JobFinished', () => {
    const verdict = judgeReport(datasetFacts({ job: { uid: 'dataset-uid', finished: true } }));
    assert.equal(!verdict.accepted && verdict.reason, 'JobFinished');
  });

  test("the bound pod comes from the token's extra fields and its service account's namespace", () => {
    assert.deepEqual(boundPodOf(review), { namespace: 'team-a', name: 'job-trainer-2', uid: 'pod-uid' });
    assert.equal(boundPodOf({ ...review, user: { ...review.user, username: 'alice' } }), undefined);
  });
});
