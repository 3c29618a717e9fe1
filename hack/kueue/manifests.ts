// Kueue's CRDs and webhook configurations for the local cluster, from the Kueue module's own source
// (config/components in sigs.k8s.io/kueue, in the Go module cache), rewritten for a manager that runs as
// a local process: every webhook (and the CRDs' conversion webhook) is reached at a loopback URL with
// our CA bundle instead of a Service, as kustomize's config/default would point them at one.
//
//   node dist/hack/kueue/manifests.js KUEUE-MODULE-DIR WEBHOOK-URL CA-FILE > manifests.yaml
//
// Only the webhooks of Kueue's own kinds and of the integrations we enable (batch/Job, Pod) are kept.
// The Pod webhooks are narrowed to pods that carry a queue name, so a stopped Kueue never blocks the
// cluster's other pods (Kueue's webhooks fail closed).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parseAllDocuments, stringify } from 'yaml';

/** The Kueue kinds that are served in two versions and converted by Kueue's /convert webhook
 * (config/components/crd/kustomization.yaml lists the same patches). */
const CONVERTED_CRDS = new Set([
  'localqueues.kueue.x-k8s.io',
  'clusterqueues.kueue.x-k8s.io',
  'cohorts.kueue.x-k8s.io',
  'workloads.kueue.x-k8s.io',
  'multikueueclusters.kueue.x-k8s.io',
]);

/** Webhook paths we keep: Kueue's own kinds, batch/Job and Pod. */
const KEPT_PATH = /^\/(mutate|validate)-(kueue-x-k8s-io-|batch-v1-job$|-v1-pod$)/;

export const QUEUE_NAME_LABEL = 'kueue.x-k8s.io/queue-name';

interface Webhook {
  name: string;
  clientConfig: { service?: { path?: string }; url?: string; caBundle?: string };
  namespaceSelector?: unknown;
  objectSelector?: unknown;
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  spec?: { conversion?: unknown };
  webhooks?: Webhook[];
}

export function kueueManifests(moduleDir: string, webhookUrl: string, caBundle: string): Manifest[] {
  const components = join(moduleDir, 'config/components');
  const crdDir = join(components, 'crd/bases');
  const crds = readdirSync(crdDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => documents(join(crdDir, f)));
  for (const crd of crds) {
    if (!CONVERTED_CRDS.has(crd.metadata.name)) continue;
    crd.spec = {
      ...crd.spec,
      conversion: {
        strategy: 'Webhook',
        webhook: {
          clientConfig: { url: `${webhookUrl}/convert`, caBundle },
          conversionReviewVersions: ['v1'],
        },
      },
    };
  }
  const webhookConfigs = documents(join(components, 'webhook/manifests.yaml'));
  for (const config of webhookConfigs) {
    config.metadata.name = `kueue-${config.metadata.name}`;
    config.webhooks = (config.webhooks ?? [])
      .filter((w) => KEPT_PATH.test(w.clientConfig.service?.path ?? ''))
      .map((w) =>
        narrowed({ ...w, clientConfig: { url: `${webhookUrl}${w.clientConfig.service?.path}`, caBundle } }),
      );
  }
  return [...crds, ...webhookConfigs];
}

/** Pod webhooks see only pods with a queue name, outside kube-system. */
function narrowed(webhook: Webhook): Webhook {
  if (!/-v1-pod$/.test(webhook.clientConfig.url ?? '')) return webhook;
  return {
    ...webhook,
    namespaceSelector: {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }],
    },
    objectSelector: { matchExpressions: [{ key: QUEUE_NAME_LABEL, operator: 'Exists' }] },
  };
}

function documents(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

if (process.argv[1]?.endsWith('manifests.js')) {
  const [moduleDir, url, caFile] = process.argv.slice(2);
  if (!moduleDir || !url || !caFile) {
    console.error('usage: manifests.js KUEUE-MODULE-DIR WEBHOOK-URL CA-FILE');
    process.exit(64);
  }
  const caBundle = Buffer.from(readFileSync(caFile)).toString('base64');
  process.stdout.write(
    kueueManifests(moduleDir, url, caBundle)
      .map((m) => stringify(m, { lineWidth: 0 }))
      .join('---\n'),
  );
}
