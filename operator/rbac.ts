// The permissions the operator needs, and only those: written to crds/rbac/ by hack/gen-crds.ts and
// reused by the Helm chart.
import { GROUP } from './api/common.js';

export const OPERATOR_CLUSTER_ROLE = 'brewery-operator';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export const OPERATOR_RULES: PolicyRule[] = [
  // Its own kinds: read and watch them, add and remove finalizers, and write status.
  {
    apiGroups: [GROUP],
    resources: ['imagenetdatasets', 'caffetrainingjobs'],
    verbs: ['get', 'list', 'watch', 'update', 'patch'],
  },
  // ttlSecondsAfterFinished: a finished training job deletes itself.
  { apiGroups: [GROUP], resources: ['caffetrainingjobs'], verbs: ['delete'] },
  {
    apiGroups: [GROUP],
    resources: ['imagenetdatasets/status', 'caffetrainingjobs/status'],
    verbs: ['get', 'update', 'patch'],
  },
  // Owner references with blockOwnerDeletion need update on the owner's finalizers subresource.
  {
    apiGroups: [GROUP],
    resources: ['imagenetdatasets/finalizers', 'caffetrainingjobs/finalizers'],
    verbs: ['update'],
  },
  // Prep and finalize Jobs of datasets; suspend is a patch.
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  // Trainer pods and their metrics Services; ConfigMaps: the prototxts a CaffeTrainingJob names (read)
  // and the effective prototxts the operator renders for its trainer (owned).
  // Trainer pods carry a finalizer until their end is recorded: removing it is a patch.
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch'] },
  { apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  // A job whose prototxts changed gets its ConfigMap replaced before the next pod starts.
  {
    apiGroups: [''],
    resources: ['configmaps'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
  },
  // Kueue, where a job names a queue: the trainer pod's Workload (Kueue's message while it waits) and
  // the LocalQueue's ClusterQueue. Reads only: Kueue admits, the operator reports.
  { apiGroups: ['kueue.x-k8s.io'], resources: ['workloads', 'localqueues'], verbs: ['get', 'list'] },
  // Events for its decisions.
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  // The progress endpoint checks each trainer's projected service-account token (its audience, and the
  // pod it is bound to) with the apiserver.
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  // Leader election.
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

export function operatorClusterRole(): object {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: OPERATOR_CLUSTER_ROLE, labels: { 'app.kubernetes.io/part-of': 'brewery' } },
    rules: OPERATOR_RULES,
  };
}
