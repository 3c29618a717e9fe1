// What the controllers' child objects share: the managed-by label, owner references, names that fit
// in 63 characters, and container resources from the API's ComputeResources.
import { createHash } from 'node:crypto';

import type { z } from 'zod';

import { ExitCode } from '../trainer/contract/errors.js';
import { API_VERSION, type ComputeResources } from './api/common.js';
import type { OwnerReference, Resource } from './runtime/kube-client.js';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'brewery-operator' };
/** Exit code of the `caffe` command for input no retry can fix. */
export const BAD_INPUT_EXIT_CODE = ExitCode.BadInput;
/** Exit code of the `caffe` command for a wrong command line: no retry fixes it either. */
export const USAGE_EXIT_CODE = ExitCode.Usage;

/** The audience of a pod's projected token for the operator: a token for the apiserver is never accepted. */
export const PROGRESS_AUDIENCE = 'brewery-operator';
/** Where a trainer or finalize pod finds its token for the operator and the operator's CA (a projected volume). */
export const PROGRESS_MOUNT = '/var/run/secrets/caffe.brewery.dev/progress';
/** Lifetime asked for the projected token; the kubelet renews it before it expires. */
export const PROGRESS_TOKEN_SECONDS = 3600;

/** Where pods report to the operator: its endpoint, and the CA its certificate chains to. */
export interface ProgressRoute {
  /** https://host:port of the operator's progress endpoint, as pods reach it. */
  url: string;
  /** PEM CA bundle the pods trust for it. */
  ca: string;
}

/** The `caffe` flags that report to the operator at `path`, with the token and CA of PROGRESS_MOUNT. */
export function progressFlags(route: ProgressRoute, path: string): string[] {
  return [
    `--progress-url=${route.url.replace(/\/+$/, '')}${path}`,
    `--progress-token=${PROGRESS_MOUNT}/token`,
    `--progress-ca=${PROGRESS_MOUNT}/ca.crt`,
  ];
}

export const PODS: Resource = { group: '', version: 'v1', plural: 'pods', kind: 'Pod' };
export const SERVICES: Resource = { group: '', version: 'v1', plural: 'services', kind: 'Service' };
export const CONFIG_MAPS: Resource = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };

/** `<owner>-<suffix>`, shortened with a hash of the owner's name when it would pass 63 characters. */
export function childName(owner: string, suffix: string): string {
  const name = `${owner}-${suffix}`;
  if (name.length <= 63) return name;
  const hash = createHash('sha256').update(owner).digest('hex').slice(0, 8);
  return `${owner.slice(0, 63 - suffix.length - 10)}-${hash}-${suffix}`;
}

/** The reference that makes the owner's deletion collect the child, and the child's events reach it. */
export function controllerReference(kind: string, name: string, uid: string): OwnerReference {
  return { apiVersion: API_VERSION, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** Requests equal to limits, so a pod gets exactly what its object asked for. */
export function resourceRequirements(
  resources: z.infer<typeof ComputeResources> | undefined,
): Record<string, unknown> {
  const amounts: Record<string, string | number> = {};
  if (resources?.cpu !== undefined) amounts.cpu = resources.cpu;
  if (resources?.memory !== undefined) amounts.memory = resources.memory;
  if (resources?.gpus) amounts['nvidia.com/gpu'] = resources.gpus;
  return Object.keys(amounts).length ? { requests: amounts, limits: amounts } : {};
}

/** Environment variables of a container: the operator's own, then the user's, which win on a name both set. */
export function mergeEnv(
  ours: { name: string; value: string }[],
  users: { name: string; value: string }[],
): { name: string; value: string }[] {
  const names = new Set(users.map((v) => v.name));
  return [...ours.filter((v) => !names.has(v.name)), ...users];
}
