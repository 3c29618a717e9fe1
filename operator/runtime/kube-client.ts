// The few API calls the operator makes, over plain JSON objects. One interface, so controllers and
// tests never touch client-node directly: tests pass an in-memory client with the same shape.
import { HttpMethod, type KubeConfig, PatchStrategy, RequestContext, Watch } from '@kubernetes/client-node';
import { fetch } from 'undici';

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

export interface DeleteOptions {
  /** Seconds the pod's containers get after SIGTERM; the object's default when unset. */
  gracePeriodSeconds?: number;
  /** Delete only the object with this UID (not a newer one of the same name). */
  uid?: string;
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
  /** Deletes with background propagation; a missing object (or one with another UID) is not an error. */
  delete(res: Resource, namespace: string, name: string, options?: DeleteOptions): Promise<void>;
}

/** A call the apiserver refused: its HTTP status and the Status message it sent. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
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

function parseStatus(text: string): { message?: string; reason?: string } | undefined {
  try {
    return text ? (JSON.parse(text) as { message?: string; reason?: string }) : undefined;
  } catch {
    return { message: text.trim() };
  }
}

export function resourcePath(res: Resource, namespace?: string): string {
  const base = res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`;
  return namespace ? `${base}/namespaces/${namespace}/${res.plural}` : `${base}/${res.plural}`;
}

/**
 * A KubeClient over plain JSON requests, authenticated and TLS-configured by client-node's KubeConfig.
 * Plain JSON rather than client-node's typed APIs: those turn timestamps into Dates and address custom
 * and core kinds differently, while the operator reads every kind as the apiserver writes it.
 */
export function kubeClient(config: KubeConfig): KubeClient {
  const watcher = new Watch(config);
  // client-node's applySecurityAuthentication makes a new undici Agent on every call (createDispatcher
  // in its config.js), so each call would open, and leave open, a TLS connection of its own: a thousand
  // jobs meant a handshake per API call and connections piling up on the apiserver. The first call's
  // Agent is kept and its connection pool reused; headers (tokens) are still taken fresh per call.
  let dispatcher: ReturnType<RequestContext['getDispatcher']>;
  const server = () => {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig: no current cluster');
    return cluster.server.replace(/\/+$/, '');
  };

  async function call(
    method: HttpMethod,
    path: string,
    options: { query?: Record<string, string>; body?: unknown; contentType?: string } = {},
  ): Promise<unknown> {
    const url = new URL(server() + path);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const context = new RequestContext(url.toString(), method);
    await config.applySecurityAuthentication(context);
    dispatcher ??= context.getDispatcher();
    const headers: Record<string, string> = { ...context.getHeaders(), Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
    const response = await fetch(url, {
      method,
      headers,
      dispatcher,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    if (!response.ok) {
      // A path no API serves (a group that is not installed) gets a plain-text 404, not a Status.
      const status = parseStatus(text);
      throw new ApiError(
        response.status,
        `${method} ${path}: ${response.status} ${status?.message ?? response.statusText}`,
        status?.reason,
      );
    }
    return text ? (JSON.parse(text) as unknown) : undefined;
  }
  const objectPath = (res: Resource, namespace: string, name: string) =>
    `${resourcePath(res, namespace)}/${encodeURIComponent(name)}`;

  return {
    async list(res, options = {}) {
      const query: Record<string, string> = {};
      if (options.labelSelector) query.labelSelector = options.labelSelector;
      const list = (await call(HttpMethod.GET, resourcePath(res), { query })) as {
        items?: KubeObject[];
        metadata?: { resourceVersion?: string };
      };
      return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
    },

    async watch(res, resourceVersion, onEvent, options = {}) {
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
        return (await call(HttpMethod.GET, objectPath(res, namespace, name))) as KubeObject;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async create(res, namespace, body) {
      return (await call(HttpMethod.POST, resourcePath(res, namespace), { body })) as KubeObject;
    },

    async replace(res, namespace, name, body) {
      return (await call(HttpMethod.PUT, objectPath(res, namespace, name), { body })) as KubeObject;
    },

    async replaceStatus(res, namespace, name, body) {
      return (await call(HttpMethod.PUT, `${objectPath(res, namespace, name)}/status`, {
        body,
      })) as KubeObject;
    },

    async mergePatch(res, namespace, name, patch) {
      return (await call(HttpMethod.PATCH, objectPath(res, namespace, name), {
        body: patch,
        contentType: PatchStrategy.MergePatch,
      })) as KubeObject;
    },

    async delete(res, namespace, name, options = {}) {
      // Options go in the body: the apiserver ignores a DELETE's query parameters when it has a body.
      const body: Record<string, unknown> = {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        propagationPolicy: 'Background',
      };
      if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
      if (options.uid) body.preconditions = { uid: options.uid };
      try {
        await call(HttpMethod.DELETE, objectPath(res, namespace, name), { body });
      } catch (error) {
        // 404: already gone; 409 with a UID precondition: the name now belongs to a newer object.
        if (isNotFound(error) || (options.uid && isConflict(error))) return;
        throw error;
      }
    },
  };
}
