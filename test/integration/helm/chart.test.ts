// The chart, rendered by the real helm and checked by the real apiserver: lint, default and
// every-option renders accepted by a server-side dry-run, the schema refusing typos, and the
// generated CRDs and ClusterRole matching what operator/api and operator/rbac.ts say.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { allCustomResourceDefinitions } from '../../../operator/api/crds.js';
import { OPERATOR_RULES } from '../../../operator/rbac.js';
import { type LocalCluster, localCluster, skipReason } from '../../support/cluster.js';
import {
  chartDir,
  fixture,
  helm,
  kindsAndNames,
  kubectl,
  type ManifestObject,
  manifestObjects,
  serverDryRun,
} from './support.js';

interface Container {
  name: string;
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  securityContext: Record<string, unknown>;
}

interface PodTemplate {
  spec: { securityContext: Record<string, unknown>; containers: Container[] };
}

function only(objects: ManifestObject[], kind: string): ManifestObject[] {
  return objects.filter((o) => o.kind === kind);
}

function operatorPod(objects: ManifestObject[]): PodTemplate['spec'] {
  const [deployment] = only(objects, 'Deployment');
  assert.ok(deployment, 'expected a Deployment in the rendered chart');
  return (deployment.spec as { template: PodTemplate }).template.spec;
}

function operatorContainer(objects: ManifestObject[]): Container {
  const container = operatorPod(objects).containers.find((c) => c.name === 'operator');
  assert.ok(container, 'expected a container named operator');
  return container;
}

describe('the Helm chart', { skip: skipReason }, () => {
  let cluster: LocalCluster;
  const namespace = `helm-chart-${randomBytes(3).toString('hex')}`;
  const template = (args: string[]) =>
    helm(cluster, ['template', 'brewery', chartDir(), '--namespace', namespace, ...args]);

  before(async () => {
    cluster = localCluster();
    await kubectl(cluster, ['create', 'namespace', namespace]);
  });

  after(async () => {
    await kubectl(cluster, ['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
    await kubectl(cluster, ['delete', 'crd', '-l', 'brewery.dev/test-stand-in=true']).catch(() => undefined);
  });

  test('helm lint --strict passes with the default values and with every option on', async () => {
    await helm(cluster, ['lint', '--strict', chartDir()]);
    await helm(cluster, ['lint', '--strict', chartDir(), '-f', fixture('all-on.yaml')]);
  });

  test('the default render holds the operator, its RBAC, its metrics and progress Services, its TLS Secret and both CRDs', async () => {
    const rendered = await template([]);
    assert.deepEqual(kindsAndNames(rendered).sort(), [
      'ClusterRole/brewery-operator',
      'ClusterRoleBinding/brewery-operator',
      'CustomResourceDefinition/caffetrainingjobs.caffe.brewery.dev',
      'CustomResourceDefinition/imagenetdatasets.caffe.brewery.dev',
      'Deployment/brewery-operator',
      'Secret/brewery-operator-progress-tls',
      'Service/brewery-operator-metrics',
      'Service/brewery-operator-progress',
      'ServiceAccount/brewery-operator',
    ]);
    await serverDryRun(cluster, rendered);
  });

  test('the operator Deployment runs hardened, with probes, the downward API and its flags', async () => {
    const objects = manifestObjects(await template([]));
    const container = operatorContainer(objects);
    assert.deepEqual(container.args, [
      '--metrics-port=8080',
      '--trainer-image=ghcr.io/brewery-dev/trainer-cpu:0.1.0',
      '--leader-elect=true',
      '--lease-name=brewery-operator',
      '--progress-port=8443',
      `--progress-url=https://brewery-operator-progress.${namespace}.svc:8443`,
      '--tls-cert-file=/etc/brewery/progress-tls/tls.crt',
      '--tls-key-file=/etc/brewery/progress-tls/tls.key',
      '--progress-ca-file=/etc/brewery/progress-tls/ca.crt',
    ]);
    const fromField = Object.fromEntries(
      container.env
        .filter((e) => e.valueFrom?.fieldRef)
        .map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]),
    );
    assert.deepEqual(fromField, { POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace' });
    assert.deepEqual(container.ports, [
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
      { name: 'progress', containerPort: 8443, protocol: 'TCP' },
    ]);
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'metrics' });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'metrics' });
    assert.deepEqual(container.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    const pod = operatorPod(objects);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
  });

  test('the CRDs and the ClusterRole are the generated ones', async () => {
    const objects = manifestObjects(await template([]));
    const crds = only(objects, 'CustomResourceDefinition');
    for (const { crd } of allCustomResourceDefinitions()) {
      const name = (crd.metadata as { name: string }).name;
      const rendered = crds.find((c) => c.metadata.name === name);
      assert.ok(rendered, `expected CRD ${name} in the chart`);
      assert.deepEqual(rendered.spec, crd.spec, `${name}: the chart's spec differs from operator/api`);
      assert.equal(
        (rendered.metadata as { annotations?: Record<string, string> }).annotations?.[
          'helm.sh/resource-policy'
        ],
        'keep',
      );
    }
    const [role] = only(objects, 'ClusterRole');
    assert.deepEqual(role?.rules, OPERATOR_RULES);
  });

  test('crds.install=false leaves the CRDs out', async () => {
    const names = kindsAndNames(await template(['--set', 'crds.install=false']));
    assert.equal(names.filter((n) => n.startsWith('CustomResourceDefinition/')).length, 0);
    assert.ok(names.includes('Deployment/brewery-operator'));
  });

  test('monitors render when the cluster serves monitoring.coreos.com/v1, or when asked for', async () => {
    const auto = kindsAndNames(await template(['--api-versions', 'monitoring.coreos.com/v1']));
    assert.ok(auto.includes('ServiceMonitor/brewery-operator'), auto.join(' '));
    assert.ok(auto.includes('PodMonitor/brewery-trainers'), auto.join(' '));
    const off = kindsAndNames(
      await template([
        '--api-versions',
        'monitoring.coreos.com/v1',
        '--set',
        'metrics.serviceMonitor.enabled=false',
        '--set',
        'metrics.podMonitor.enabled=false',
      ]),
    );
    assert.equal(off.filter((n) => /Monitor\//.test(n)).length, 0);
  });

  test('every option on renders monitors and dashboards that the apiserver accepts', async () => {
    const rendered = await template(['-f', fixture('all-on.yaml')]);
    const objects = manifestObjects(rendered);
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const expected of [
      'ServiceMonitor/brewery-operator',
      'PodMonitor/brewery-trainers',
      'ConfigMap/brewery-dashboard-training',
      'ConfigMap/brewery-dashboard-operator',
      'ServiceAccount/brewery-all-on',
    ]) {
      assert.ok(names.includes(expected), `expected ${expected} among ${names.join(', ')}`);
    }
    for (const map of only(objects, 'ConfigMap')) {
      assert.equal(map.metadata.labels?.grafana_dashboard, '1');
      const data = map.data as Record<string, string>;
      for (const [key, json] of Object.entries(data)) {
        assert.match(key, /\.json$/);
        assert.ok(JSON.parse(json).panels.length > 0, `${key}: expected panels`);
      }
    }
    const container = operatorContainer(objects);
    assert.ok(container.args.includes('--trainer-image=registry.example.com/brewery/trainer:9.9.9'));
    // The operator holds no object-store credentials or settings, with every option on.
    const envNames = container.env.map((e) => e.name);
    assert.deepEqual(
      envNames.filter((n) => n.startsWith('AWS_')),
      [],
      envNames.join(', '),
    );
    assert.equal((container as { envFrom?: unknown }).envFrom, undefined);
    await kubectl(cluster, ['apply', '--server-side', '-f', fixture('monitoring-crds.yaml')]);
    await kubectl(cluster, [
      'wait',
      '--for=condition=Established',
      '--timeout=30s',
      'crd/servicemonitors.monitoring.coreos.com',
      'crd/podmonitors.monitoring.coreos.com',
    ]);
    await serverDryRun(cluster, rendered);
  });

  test('a misspelt value is refused by the schema, naming the key', async () => {
    await assert.rejects(template(['-f', fixture('typo-top.yaml')]), /replica/);
    await assert.rejects(template(['-f', fixture('typo-nested.yaml')]), /enable/);
    // The operator has no object-store values at all.
    await assert.rejects(template(['--set', 'objectStore.credentialsSecret=keys']), /objectStore/);
  });

  test('two replicas without leader election are refused', async () => {
    await assert.rejects(
      template(['--set', 'operator.replicas=2', '--set', 'operator.leaderElection.enabled=false']),
      /needs operator.leaderElection.enabled/,
    );
    const names = kindsAndNames(await template(['--set', 'operator.replicas=2']));
    assert.ok(names.includes('Deployment/brewery-operator'));
  });
});
