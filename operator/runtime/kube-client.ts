// The few API calls the operator makes, over plain JSON objects. One interface, so controllers and
// tests never touch client-node directly: tests pass an in-memory client with the same shape.
import { HttpMethod, type KubeConfig, PatchStrategy, RequestContext } from '@kubernetes/client-node';
import { fetch } from 'undici';

/**
 * How long a request may take before it fails: the apiserver's own --request-timeout default (1m), which
 * it applies to every request but watches. Ours covers what it cannot: a connection that hangs.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

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

/** A request that got no whole answer within the client's timeout; the reconcile retries it with backoff. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  constructor(
    readonly verb: string,
    readonly resource: string,
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`${verb} ${resource} (${path}): no answer from the apiserver within ${timeoutMs} ms`);
  }
}

export interface KubeClientOptions {
  /** Each request but a watch's stream fails after this long; a watch has to connect within it. */
  requestTimeoutMs?: number;
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
export function kubeClient(config: KubeConfig, options: KubeClientOptions = {}): KubeClient {
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // client-node's applySecurityAuthentication makes a new undici Agent on every call (createDispatcher
  // in its config.js), so each call would open, and leave open, a TLS connection of its own: a thousand
  // jobs meant a handshake per API call and connections piling up on the apiserver. The first call's
  // Agent is kept and its connection pool reused, watches included; headers (tokens) are still taken
  // fresh per call.
  let dispatcher: ReturnType<RequestContext['getDispatcher']>;
  const server = () => {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig: no current cluster');
    return cluster.server.replace(/\/+$/, '');
  };

  /** What a request is, for errors: the Kubernetes verb and the resource it names. */
  interface Target {
    verb: string;
    resource: string;
    path: string;
  }

  /** Sends one request on the client's one Agent, with fresh credentials; the caller bounds it by `signal`. */
  async function request(
    target: Target,
    method: HttpMethod,
    options: { query?: Record<string, string>; body?: unknown; contentType?: string; signal?: AbortSignal },
  ) {
    const url = new URL(server() + target.path);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const context = new RequestContext(url.toString(), method);
    await config.applySecurityAuthentication(context);
    dispatcher ??= context.getDispatcher();
    const headers: Record<string, string> = { ...context.getHeaders(), Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
    return fetch(url, {
      method,
      headers,
      dispatcher,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
  }

  const timedOut = (target: Target, error: unknown) =>
    (error as { name?: string } | null)?.name === 'TimeoutError'
      ? new RequestTimeoutError(target.verb, target.resource, target.path, timeoutMs)
      : error;

  async function call(
    target: Target,
    method: HttpMethod,
    options: { query?: Record<string, string>; body?: unknown; contentType?: string } = {},
  ): Promise<unknown> {
    const { path } = target;
    let response: Awaited<ReturnType<typeof fetch>>;
    let text: string;
    try {
      // One signal for the headers and the body: a server that answers and then stops sending fails too.
      response = await request(target, method, { ...options, signal: AbortSignal.timeout(timeoutMs) });
      text = await response.text();
    } catch (error) {
      throw timedOut(target, error);
    }
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
  /** A call on one object (or, without a name, on the collection in a namespace or the cluster). */
  const targetOf = (verb: string, res: Resource, namespace?: string, name?: string, sub?: string): Target => {
    const collection = resourcePath(res, namespace);
    const path = name ? `${collection}/${encodeURIComponent(name)}${sub ? `/${sub}` : ''}` : collection;
    const kind = sub ? `${res.plural}/${sub}` : res.plural;
    const where = name ? ` ${namespace ? `${namespace}/` : ''}${name}` : namespace ? ` in ${namespace}` : '';
    return { verb, resource: `${kind}${where}`, path };
  };

  return {
    async list(res, options = {}) {
      const query: Record<string, string> = {};
      if (options.labelSelector) query.labelSelector = options.labelSelector;
      const list = (await call(targetOf('list', res), HttpMethod.GET, { query })) as {
        items?: KubeObject[];
        metadata?: { resourceVersion?: string };
      };
      return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
    },

    async watch(res, resourceVersion, onEvent, options = {}) {
      const what = targetOf('watch', res);
      const query: Record<string, string> = {
        watch: 'true',
        resourceVersion,
        allowWatchBookmarks: 'true',
      };
      if (options.labelSelector) query.labelSelector = options.labelSelector;
      const stop = new AbortController();
      // Connecting is bounded like any request; the stream then lives as long as the informer's liveness
      // check (watch-liveness.ts) hears events or bookmarks on it.
      const connectTimer = setTimeout(
        () => stop.abort(new DOMException('connect', 'TimeoutError')),
        timeoutMs,
      );
      let response: Awaited<ReturnType<typeof fetch>>;
      try {
        response = await request(what, HttpMethod.GET, { query, signal: stop.signal });
      } catch (error) {
        throw timedOut(what, error);
      } finally {
        clearTimeout(connectTimer);
      }
      if (!response.ok || !response.body) {
        const status = parseStatus(await response.text().catch(() => ''));
        throw new ApiError(
          response.status,
          `${HttpMethod.GET} ${what.path}?watch=true: ${response.status} ${status?.message ?? response.statusText}`,
          status?.reason,
        );
      }
      const body = response.body;
      const done = (async () => {
        const decoder = new TextDecoder();
        let buffered = '';
        try {
          for await (const chunk of body) {
            buffered += decoder.decode(chunk, { stream: true });
            for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
              const line = buffered.slice(0, end).trim();
              buffered = buffered.slice(end + 1);
              if (stop.signal.aborted) return;
              if (!line) continue;
              const event = JSON.parse(line) as { type: WatchEventType; object: KubeObject };
              onEvent(event.type, event.object);
            }
          }
        } catch (error) {
          // Our own abort ends the watch cleanly; anything else (a reset connection) is the caller's to see.
          if (stop.signal.aborted) return;
          throw error;
        }
      })();
      return { done, abort: () => stop.abort() };
    },

    async get(res, namespace, name) {
      try {
        return (await call(targetOf('get', res, namespace, name), HttpMethod.GET)) as KubeObject;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async create(res, namespace, body) {
      return (await call(targetOf('create', res, namespace), HttpMethod.POST, { body })) as KubeObject;
    },

    async replace(res, namespace, name, body) {
      return (await call(targetOf('update', res, namespace, name), HttpMethod.PUT, { body })) as KubeObject;
    },

    async replaceStatus(res, namespace, name, body) {
      return (await call(targetOf('update', res, namespace, name, 'status'), HttpMethod.PUT, {
        body,
      })) as KubeObject;
    },

    async mergePatch(res, namespace, name, patch) {
      return (await call(targetOf('patch', res, namespace, name), HttpMethod.PATCH, {
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
        await call(targetOf('delete', res, namespace, name), HttpMethod.DELETE, { body });
      } catch (error) {
        // 404: already gone; 409 with a UID precondition: the name now belongs to a newer object.
        if (isNotFound(error) || (options.uid && isConflict(error))) return;
        throw error;
      }
    },
  };
}
