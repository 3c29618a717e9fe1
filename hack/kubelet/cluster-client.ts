// The API calls the kubelet makes, in one place: the pod worker and the node registry depend on these
// small functions rather than on client-node, so the patch content types are set once and right.

import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Node,
  type V1PodList,
  VersionApi,
} from '@kubernetes/client-node';

import type { KeyData } from './volumes.js';

const strategicMerge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface PodApi {
  patchPodStatus(namespace: string, name: string, status: object): Promise<void>;
  /** Deletes with gracePeriodSeconds 0 and a UID precondition; a pod already gone is not an error. */
  deletePod(namespace: string, name: string, uid: string): Promise<void>;
  /** Key -> bytes of a ConfigMap (data and binaryData), or undefined when it does not exist. */
  readConfigMap(namespace: string, name: string): Promise<KeyData | undefined>;
  /** Key -> decoded bytes of a Secret, or undefined when it does not exist. */
  readSecret(namespace: string, name: string): Promise<KeyData | undefined>;
  requestToken(
    namespace: string,
    serviceAccount: string,
    audience: string | undefined,
    seconds: number,
    /** The pod the token is for: bound to it, as the kubelet binds a projected token (its extra names the pod). */
    pod?: { name: string; uid: string },
  ): Promise<string>;
  listPodsOnNode(nodeName: string): Promise<V1PodList>;
}

export interface NodeApi {
  readNode(name: string): Promise<V1Node | undefined>;
  createNode(node: V1Node): Promise<V1Node>;
  patchNode(name: string, patch: object): Promise<V1Node>;
  patchNodeStatus(name: string, status: object): Promise<V1Node>;
  /** Creates or renews a Lease in kube-node-lease. */
  renewLease(nodeName: string, nodeUid: string | undefined, spec: object): Promise<void>;
  serverVersion(): Promise<string>;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

export function makePodApi(config: KubeConfig): PodApi {
  const core = config.makeApiClient(CoreV1Api);
  return {
    async patchPodStatus(namespace, name, status) {
      await core.patchNamespacedPodStatus({ namespace, name, body: { status } }, strategicMerge);
    },
    async deletePod(namespace, name, uid) {
      try {
        // In the body: the apiserver ignores the query parameters of a DELETE that has a body.
        await core.deleteNamespacedPod({
          namespace,
          name,
          body: { gracePeriodSeconds: 0, preconditions: { uid } },
        });
      } catch (error) {
        // 404: already gone; 409: the name now belongs to a newer pod with another UID.
        if (error instanceof ApiException && (error.code === 404 || error.code === 409)) return;
        throw error;
      }
    },
    async readConfigMap(namespace, name) {
      try {
        const cm = await core.readNamespacedConfigMap({ namespace, name });
        const data: KeyData = {};
        for (const [k, v] of Object.entries(cm.data ?? {})) data[k] = Buffer.from(v, 'utf8');
        for (const [k, v] of Object.entries(cm.binaryData ?? {})) data[k] = Buffer.from(v, 'base64');
        return data;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async readSecret(namespace, name) {
      try {
        const secret = await core.readNamespacedSecret({ namespace, name });
        const data: KeyData = {};
        for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, 'base64');
        for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = Buffer.from(v, 'utf8');
        return data;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async requestToken(namespace, serviceAccount, audience, seconds, pod) {
      const spec = {
        audiences: audience ? [audience] : [],
        expirationSeconds: seconds,
        ...(pod ? { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.name, uid: pod.uid } } : {}),
      };
      const result = await core.createNamespacedServiceAccountToken({
        namespace,
        name: serviceAccount,
        body: { spec },
      });
      return result.status?.token ?? '';
    },
    async listPodsOnNode(nodeName) {
      return core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` });
    },
  };
}

export function makeNodeApi(config: KubeConfig): NodeApi {
  const core = config.makeApiClient(CoreV1Api);
  const coordination = config.makeApiClient(CoordinationV1Api);
  const version = config.makeApiClient(VersionApi);
  return {
    async readNode(name) {
      try {
        return await core.readNode({ name });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    createNode: (node) => core.createNode({ body: node }),
    patchNode: (name, patch) => core.patchNode({ name, body: patch }, mergePatch),
    patchNodeStatus: (name, status) => core.patchNodeStatus({ name, body: { status } }, strategicMerge),
    async renewLease(nodeName, nodeUid, spec) {
      const namespace = 'kube-node-lease';
      const renew = () =>
        coordination.patchNamespacedLease({ namespace, name: nodeName, body: { spec } }, mergePatch);
      try {
        await renew();
      } catch (error) {
        if (!isNotFound(error)) throw error;
        const ownerReferences = nodeUid
          ? [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }]
          : [];
        // Created without times (the typed create would send renewTime with milliseconds, while a
        // MicroTime needs microseconds), then renewed by the patch.
        await coordination.createNamespacedLease({
          namespace,
          body: {
            metadata: { name: nodeName, namespace, ownerReferences },
            spec: { holderIdentity: nodeName },
          },
        });
        await renew();
      }
    },
    async serverVersion() {
      const info = await version.getCode();
      return info.gitVersion;
    },
  };
}
