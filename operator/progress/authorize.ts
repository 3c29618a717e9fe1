// Whether a report may change a CaffeTrainingJob's or an ImageNetDataset's status: the pure check over
// what was gathered for it (the apiserver's TokenReview of the bearer token, the pod the token is bound
// to, the job or dataset). A job's progress is accepted only from its current trainer pod; a dataset's
// counts only from a pod of its finalize Job; each proven by a service-account token the kubelet
// projected into that pod for the operator's audience. Pure: no I/O.

/** The pod-bound token's extra fields (Kubernetes: pkg/serviceaccount/claims.go, "extra" of the user). */
export const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';
export const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';

/** What a TokenReview returned (authentication.k8s.io/v1 TokenReviewStatus). */
export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}

/** What a report is for: a training job's progress, or a dataset's counts from its finalize step. */
export type ReportKind = 'CaffeTrainingJob' | 'ImageNetDataset';

export interface ReportFacts {
  /** The job or dataset the report is for, as its URL names it (kind: CaffeTrainingJob when absent). */
  target: { namespace: string; name: string; kind?: ReportKind };
  /** The audience the operator accepts tokens for. */
  audience: string;
  /** The bearer token was there at all. */
  hasToken: boolean;
  review?: TokenReviewStatus;
  /**
   * The pod the token names, read from the apiserver (undefined: not found, or not looked up);
   * controllerUid: the uid of the job that controls it, or of the dataset whose finalize Job does.
   */
  pod?: { namespace: string; name: string; uid: string; controllerUid?: string };
  /** The job or dataset, read from the apiserver (undefined: not found, or not looked up). */
  job?: { uid: string; currentPod?: string; finished: boolean };
}

export type RefusalReason =
  | 'NoToken'
  | 'InvalidToken'
  | 'NotAPodToken'
  | 'PodGone'
  | 'JobNotFound'
  | 'WrongJob'
  | 'NotCurrentPod'
  | 'JobFinished';

export type ReportVerdict =
  | { accepted: true; pod: string }
  | { accepted: false; httpStatus: 401 | 403 | 404 | 409; reason: RefusalReason; message: string };

/** The pod a reviewed token is bound to, from its user's extra fields and service-account name. */
export function boundPodOf(
  review: TokenReviewStatus,
): { namespace: string; name: string; uid: string } | undefined {
  const name = review.user?.extra?.[POD_NAME_EXTRA]?.[0];
  const uid = review.user?.extra?.[POD_UID_EXTRA]?.[0];
  // system:serviceaccount:<namespace>:<name>: a pod-bound token is its service account's, in the pod's namespace.
  const parts = review.user?.username?.split(':') ?? [];
  if (!name || !uid || parts.length !== 4 || parts[0] !== 'system' || parts[1] !== 'serviceaccount')
    return undefined;
  return { namespace: parts[2]!, name, uid };
}

/** Each check in order; the first that fails decides the refusal. */
export function judgeReport(facts: ReportFacts): ReportVerdict {
  const kind = facts.target.kind ?? 'CaffeTrainingJob';
  const job = `${facts.target.namespace}/${facts.target.name}`;
  const podOf = kind === 'CaffeTrainingJob' ? 'a trainer pod of' : 'a pod of the finalize Job of';
  if (!facts.hasToken) {
    return refuse(
      401,
      'NoToken',
      'no bearer token: report with the projected service-account token of the trainer pod',
    );
  }
  const review = facts.review;
  if (!review?.authenticated) {
    return refuse(401, 'InvalidToken', `the token is not valid${review?.error ? `: ${review.error}` : ''}`);
  }
  if (!(review.audiences ?? []).includes(facts.audience)) {
    return refuse(401, 'InvalidToken', `the token is not for the audience ${facts.audience}`);
  }
  const bound = boundPodOf(review);
  if (!bound) {
    return refuse(
      403,
      'NotAPodToken',
      `the token of ${review.user?.username ?? 'an unknown user'} is not bound to a pod`,
    );
  }
  const pod = facts.pod;
  if (!pod || pod.uid !== bound.uid || pod.namespace !== bound.namespace) {
    return refuse(
      403,
      'PodGone',
      `the pod ${bound.namespace}/${bound.name} the token is bound to no longer exists`,
    );
  }
  if (bound.namespace !== facts.target.namespace) {
    return refuse(
      403,
      'WrongJob',
      `the pod ${bound.namespace}/${bound.name} is in another namespace than ${job}`,
    );
  }
  if (!facts.job) return refuse(404, 'JobNotFound', `there is no ${kind} ${job}`);
  if (pod.controllerUid !== facts.job.uid) {
    return refuse(403, 'WrongJob', `the pod ${bound.namespace}/${bound.name} is not ${podOf} ${job}`);
  }
  if (facts.job.finished)
    return refuse(409, 'JobFinished', `${job} has finished: its status no longer changes`);
  // A dataset has one finalize Job, which runs one pod at a time: any of its pods may report.
  if (kind === 'CaffeTrainingJob' && facts.job.currentPod !== pod.name) {
    return refuse(
      409,
      'NotCurrentPod',
      `${pod.name} is not the current trainer pod of ${job} (${facts.job.currentPod ?? 'none'})`,
    );
  }
  return { accepted: true, pod: pod.name };
}

function refuse(
  httpStatus: 401 | 403 | 404 | 409,
  reason: RefusalReason,
  message: string,
): Extract<ReportVerdict, { accepted: false }> {
  return { accepted: false, httpStatus, reason, message };
}
