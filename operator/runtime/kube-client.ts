// The few API calls the operator makes, over plain JSON objects. One interface, so controllers and
// tests never touch client-node directly: tests pass an in-memory client with the same shape.
import {
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';

/** A kind the operator reads or writes, addressed like /apis/<group>/<version>/<plural>. */
export interface Resource {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** The JSON of any Kubernetes object, as the apiserver sends it (timestamps are strings). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    finalizers?: string[];
  };
  [field: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  /** Resolves when the server ends the watch normally; rejects with the error that ended it. */
  done: Promise<void>;
  abort(): void;
}

export interface ListOptions {
  labelSelector?: string;
}

export interface KubeClient {
  list(res: Resource, options?: ListOptions): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  watch(
    res: Resource,
    resourceVersion: string,
    onEvent: (type: WatchEventType, object: KubeObject) => void,
    options?: ListOptions,
  ): Promise<WatchHandle>;
  /** The object, or undefined when it does not exist. */
  get(res: Resource, namespace: string, name: string): Promise<KubeObject | undefined>;
  create(res: Resource, namespace: string, body: KubeObject): Promise<KubeObject>;
  /** A PUT of the whole object: fails with 409 Conflict when metadata.resourceVersion is stale. */
  replace(res: Resource, namespace: string, name: string, body: KubeObject): Promise<KubeObject>;
  /** A PUT of the status subresource, with the same conflict check. */
  replaceStatus(res: Resource, namespace: string, name: string, body: KubeObject): Promise<KubeObject>;
  /** A JSON merge patch (RFC 7386). */
  mergePatch(res: Resource, namespace: string, name: string, patch: object): Promise<KubeObject>;
  /** Deletes with background propagation; a missing object is not an error. */
  delete(res: Resource, namespace: string, name: string): Promise<void>;
}

/** The HTTP status of a failed call, when the error carries one. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

export const isNotFound = (error: unknown) => httpStatusOf(error) === 404;
export const isConflict = (error: unknown) => httpStatusOf(error) === 409;
export const isAlreadyExists = (error: unknown) => httpStatusOf(error) === 409;

export function resourcePath(res: Resource, namespace?: string): string {
  const base = res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`;
  return namespace ? `${base}/namespaces/${namespace}/${res.plural}` : `${base}/${res.plural}`;
}

/** A KubeClient over client-node. Core-group kinds (pods, configmaps) are not needed yet and refused. */
export function kubeClient(config: KubeConfig): KubeClient {
  const api = config.makeApiClient(CustomObjectsApi);
  const watcher = new Watch(config);
  const mergePatchOptions = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const address = (res: Resource) => {
    if (res.group === '') throw new Error(`kubeClient: core-group kind ${res.kind} is not supported yet`);
    return { group: res.group, version: res.version, plural: res.plural };
  };

  return {
    async list(res, options = {}) {
      const list = (await api.listClusterCustomObject({
        ...address(res),
        labelSelector: options.labelSelector,
      })) as { items?: KubeObject[]; metadata?: { resourceVersion?: string } };
      return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
    },

    async watch(res, resourceVersion, onEvent, options = {}) {
      address(res);
      let settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
      const done = new Promise<void>((resolve, reject) => {
        settle = { resolve, reject };
      });
      const query: Record<string, string | boolean> = { resourceVersion, allowWatchBookmarks: true };
      if (options.labelSelector) query.labelSelector = options.labelSelector;
      const request = await watcher.watch(
        resourcePath(res),
        query,
        (type: string, object: KubeObject) => onEvent(type as WatchEventType, object),
        (error: unknown) => (error ? settle!.reject(error) : settle!.resolve()),
      );
      return { done, abort: () => request.abort() };
    },

    async get(res, namespace, name) {
      try {
        return (await api.getNamespacedCustomObject({ ...address(res), namespace, name })) as KubeObject;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async create(res, namespace, body) {
      return (await api.createNamespacedCustomObject({ ...address(res), namespace, body })) as KubeObject;
    },

    async replace(res, namespace, name, body) {
      return (await api.replaceNamespacedCustomObject({
        ...address(res),
        namespace,
        name,
        body,
      })) as KubeObject;
    },

    async replaceStatus(res, namespace, name, body) {
      return (await api.replaceNamespacedCustomObjectStatus({
        ...address(res),
        namespace,
        name,
        body,
      })) as KubeObject;
    },

    async mergePatch(res, namespace, name, patch) {
      return (await api.patchNamespacedCustomObject(
        { ...address(res), namespace, name, body: patch },
        mergePatchOptions,
      )) as KubeObject;
    },

    async delete(res, namespace, name) {
      try {
        await api.deleteNamespacedCustomObject({
          ...address(res),
          namespace,
          name,
          propagationPolicy: 'Background',
        });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },
  };
}
