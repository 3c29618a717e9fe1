// Pieces both kinds share: the API group, URI and quantity fields, credentials, conditions, and the
// helper that states a cross-field rule once for both the apiserver (CEL) and the operator (zod).
import { z } from 'zod';

export const GROUP = 'caffe.brewery.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A rule the apiserver checks in CEL and the operator checks in JavaScript: the two must agree. */
export interface CrossFieldRule<T> {
  /** The CEL expression, `self` being the object the rule sits on. */
  rule: string;
  /** Shown to the user when the rule fails: a whole sentence they can act on. */
  message: string;
  /** The same rule in JavaScript, for objects the operator reads. Omitted for transition rules
   * (they need the old object, which only the apiserver has). */
  check?: (value: T) => boolean;
  /** CEL field path the message points at, e.g. `.shards`. */
  fieldPath?: string;
}

/** Attaches rules to an object schema: as `x-kubernetes-validations` for the CRD and as zod refinements. */
export function withRules<S extends z.ZodType>(schema: S, rules: CrossFieldRule<z.output<S>>[]): S {
  const refined = schema.superRefine((value, ctx) => {
    for (const { check, message, fieldPath } of rules) {
      if (check && !check(value as z.output<S>)) {
        const path = fieldPath ? fieldPath.split('.').filter(Boolean) : [];
        ctx.addIssue({ code: 'custom', message, path });
      }
    }
  }) as unknown as S;
  return refined.meta({
    'x-kubernetes-validations': rules.map(({ rule, message, fieldPath }) =>
      fieldPath ? { rule, message, fieldPath } : { rule, message },
    ),
  });
}

/** A CEL expression that is true when at most one (or exactly one) of the optional fields is set. */
export function celCountSet(fields: string[]): string {
  return fields.map((f) => `(has(self.${f}) ? 1 : 0)`).join(' + ');
}

export function countSet(value: object, fields: string[]): number {
  const record = value as Record<string, unknown>;
  return fields.filter((f) => record[f] !== undefined && record[f] !== null).length;
}

// CEL's cost estimator needs a bound on every string it compares.
export const MAX_URI_LENGTH = 1024;
export const MAX_NAME_LENGTH = 253;

const S3_URI = '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$';
const S3_URI_OR_PATH = '^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?|/.*)$';

// A URI field checked by a CEL rule rather than a pattern, so the apiserver's answer is a sentence
// instead of a regular expression.
function uriField(description: string, pattern: string, message: string) {
  const regex = new RegExp(pattern);
  return withRules(z.string().max(MAX_URI_LENGTH).describe(description), [
    { rule: `self.matches('${pattern}')`, message, check: (value) => regex.test(value) },
  ]);
}

/** Object-store locations are s3:// URIs; a bad scheme is caught by the apiserver, not by a pod. */
export function s3Uri(description: string) {
  return uriField(
    description,
    S3_URI,
    'expected an s3://bucket/prefix URI, such as s3://my-bucket/imagenet.',
  );
}

/** A location the `caffe` command can read: an s3:// URI or an absolute path inside the pod. */
export function storageUri(description: string) {
  return uriField(
    description,
    S3_URI_OR_PATH,
    'expected an s3://bucket/prefix URI or an absolute path, such as s3://my-bucket/snapshots/caffenet.',
  );
}

/** A Kubernetes object name (DNS subdomain). */
export function objectName(description: string) {
  return z
    .string()
    .min(1)
    .max(MAX_NAME_LENGTH)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a lowercase DNS name')
    .describe(description);
}

/**
 * A Kueue LocalQueue name. It travels as the value of the `kueue.x-k8s.io/queue-name` label, so it is
 * also a label value: at most 63 characters.
 */
export function queueName(description: string) {
  return z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a LocalQueue name (a lowercase DNS label)')
    .describe(description)
    .optional();
}

const QUANTITY_PATTERN =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

/** A resource quantity (`500m`, `2`, `8Gi`), written as a number or a string like in a Pod. */
export function quantity(description: string) {
  return z
    .union([
      z.int().min(0),
      z.string().max(64).regex(QUANTITY_PATTERN, 'expected a quantity such as 500m or 8Gi'),
    ])
    .describe(description)
    .meta({ 'x-kubernetes-int-or-string': true });
}

export const ObjectStoreCredentials = z
  .object({
    secretName: objectName(
      'Name of a Secret in the same namespace whose keys become environment variables of the pods: ' +
        'AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, and optionally AWS_REGION and AWS_ENDPOINT_URL.',
    ),
  })
  .describe('Credentials for the object store that holds s3:// URIs.');

export const ComputeResources = z
  .object({
    cpu: quantity('CPU cores requested and limited, e.g. 2 or 500m.').optional(),
    memory: quantity('Memory requested and limited, e.g. 8Gi.').optional(),
    gpus: z
      .int()
      .min(0)
      .max(16)
      .default(0)
      .describe('NVIDIA GPUs (the nvidia.com/gpu resource) per pod; 0 runs on the CPU.'),
  })
  .describe('Compute resources for each pod.');

/** Extra environment variables for a container, as plain name/value pairs. */
export const EnvVars = z
  .array(
    z
      .object({
        name: z
          .string()
          .min(1)
          .max(256)
          .regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/, 'expected an environment variable name')
          .describe('Name of the variable.'),
        value: z.string().max(32768).describe('Its value.'),
      })
      .describe('One environment variable.'),
  )
  .max(64)
  .describe(
    'Extra environment variables of the container, e.g. BREWERY_BACKEND or TF_NUM_INTEROP_THREADS; ' +
      'they come after those of the credentials Secret and override them.',
  )
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });

export const ConditionStatus = z.enum(['True', 'False', 'Unknown']);

export const Condition = z
  .object({
    type: z.string().max(316).describe('Kind of condition, e.g. Ready.'),
    status: ConditionStatus.describe('True, False or Unknown.'),
    reason: z.string().max(1024).describe('One CamelCase word saying why the condition has its status.'),
    message: z.string().max(32768).describe('What happened, in a sentence a person can act on.'),
    lastTransitionTime: z.string().describe('When the status last changed (RFC 3339).'),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The metadata.generation this condition was computed from.'),
  })
  .describe('A standard Kubernetes condition.');
export type Condition = z.infer<typeof Condition>;

export const Conditions = z
  .array(Condition)
  .max(16)
  .describe('Standard conditions, one per type.')
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });

/** The metadata fields the operator reads; the rest is passed through untouched. */
export const ObjectMeta = z
  .object({
    name: z.string(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    generation: z.int().optional(),
    resourceVersion: z.string().optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    finalizers: z.array(z.string()).optional(),
  })
  .loose();
export type ObjectMeta = z.infer<typeof ObjectMeta>;
