// Test doubles for the operator: a clock the test moves by hand, and an in-memory KubeClient with
// resourceVersion conflicts, watches, and errors the test can inject.
import type { Clock } from '../../../operator/runtime/clock.js';
import type {
  KubeClient,
  KubeObject,
  Resource,
  WatchEventType,
  WatchHandle,
} from '../../../operator/runtime/kube-client.js';

export class FakeClock implements Clock {
  private ms: number;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.ms = start;
  }

  now(): Date {
    return new Date(this.ms);
  }

  setTimer(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.ms + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.ms + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t.id !== due.id);
      this.ms = Math.max(this.ms, due.at);
      due.fn();
    }
    this.ms = end;
    await settle();
  }
}

/** Lets pending promise callbacks and I/O-free async steps run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type Watcher = {
  res: string;
  onEvent: (type: WatchEventType, object: KubeObject) => void;
  end: (error?: unknown) => void;
};

/** An apiserver in memory: enough of its behaviour for controllers, informers and leader election. */
export class FakeKubeClient implements KubeClient {
  readonly objects = new Map<string, KubeObject>();
  readonly calls: { verb: string; resource: string; key: string; body?: unknown }[] = [];
  private version = 1;
  private watchers: Watcher[] = [];
  /** Errors to throw from the next calls of a verb, e.g. failNext.watch = [new Error(...)]. */
  readonly failNext: Partial<Record<'list' | 'watch' | 'get' | 'create' | 'replace', unknown[]>> = {};

  private storeKey(res: Resource, namespace: string, name: string): string {
    return `${res.plural}/${namespace}/${name}`;
  }

  private maybeFail(verb: keyof FakeKubeClient['failNext']): void {
    const error = this.failNext[verb]?.shift();
    if (error) throw error;
  }

  private write(res: Resource, object: KubeObject, type: WatchEventType): KubeObject {
    const stored = structuredClone(object);
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.version) };
    const key = this.storeKey(res, stored.metadata.namespace ?? '', stored.metadata.name ?? '');
    if (type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, stored);
    for (const w of this.watchers) if (w.res === res.plural) w.onEvent(type, structuredClone(stored));
    return structuredClone(stored);
  }

  /** Puts an object in place as if someone else had created or changed it. */
  seed(res: Resource, object: KubeObject): KubeObject {
    const key = this.storeKey(res, object.metadata?.namespace ?? '', object.metadata?.name ?? '');
    return this.write(res, object, this.objects.has(key) ? 'MODIFIED' : 'ADDED');
  }

  remove(res: Resource, namespace: string, name: string): void {
    const object = this.objects.get(this.storeKey(res, namespace, name));
    if (object) this.write(res, object, 'DELETED');
  }

  /** Ends every open watch of the resource, with an error or cleanly. */
  breakWatches(plural: string, error?: unknown): void {
    for (const w of this.watchers.filter((w) => w.res === plural)) w.end(error);
  }

  get openWatches(): number {
    return this.watchers.length;
  }

  async list(res: Resource) {
    this.calls.push({ verb: 'list', resource: res.plural, key: '' });
    this.maybeFail('list');
    const items = [...this.objects.entries()]
      .filter(([key]) => key.startsWith(`${res.plural}/`))
      .map(([, object]) => structuredClone(object));
    return { items, resourceVersion: String(this.version) };
  }

  async watch(
    res: Resource,
    _resourceVersion: string,
    onEvent: (type: WatchEventType, object: KubeObject) => void,
  ): Promise<WatchHandle> {
    this.calls.push({ verb: 'watch', resource: res.plural, key: '' });
    this.maybeFail('watch');
    let settleDone!: { resolve: () => void; reject: (e: unknown) => void };
    const done = new Promise<void>((resolve, reject) => {
      settleDone = { resolve, reject };
    });
    const watcher: Watcher = {
      res: res.plural,
      onEvent,
      end: (error) => {
        this.watchers = this.watchers.filter((w) => w !== watcher);
        if (error) settleDone.reject(error);
        else settleDone.resolve();
      },
    };
    this.watchers.push(watcher);
    return { done, abort: () => watcher.end(Object.assign(new Error('aborted'), { name: 'AbortError' })) };
  }

  async get(res: Resource, namespace: string, name: string) {
    this.calls.push({ verb: 'get', resource: res.plural, key: `${namespace}/${name}` });
    this.maybeFail('get');
    const object = this.objects.get(this.storeKey(res, namespace, name));
    return object ? structuredClone(object) : undefined;
  }

  async create(res: Resource, namespace: string, body: KubeObject) {
    const name = body.metadata?.name ?? '';
    this.calls.push({ verb: 'create', resource: res.plural, key: `${namespace}/${name}`, body });
    this.maybeFail('create');
    if (this.objects.has(this.storeKey(res, namespace, name))) {
      throw new HttpError(409, `${res.plural} "${name}" already exists`);
    }
    return this.write(
      res,
      { ...body, metadata: { ...body.metadata, namespace, uid: `uid-${name}` } },
      'ADDED',
    );
  }

  async replace(res: Resource, namespace: string, name: string, body: KubeObject) {
    this.calls.push({ verb: 'replace', resource: res.plural, key: `${namespace}/${name}`, body });
    this.maybeFail('replace');
    const current = this.checkVersion(res, namespace, name, body);
    return this.write(res, { ...body, status: current.status }, 'MODIFIED');
  }

  async replaceStatus(res: Resource, namespace: string, name: string, body: KubeObject) {
    this.calls.push({
      verb: 'replaceStatus',
      resource: res.plural,
      key: `${namespace}/${name}`,
      body: body.status,
    });
    const current = this.checkVersion(res, namespace, name, body);
    return this.write(res, { ...current, status: body.status }, 'MODIFIED');
  }

  async mergePatch(res: Resource, namespace: string, name: string, patch: object) {
    this.calls.push({ verb: 'mergePatch', resource: res.plural, key: `${namespace}/${name}`, body: patch });
    const current = this.objects.get(this.storeKey(res, namespace, name));
    if (!current) throw new HttpError(404, `${res.plural} "${name}" not found`);
    return this.write(res, mergePatch(current, patch) as KubeObject, 'MODIFIED');
  }

  async delete(res: Resource, namespace: string, name: string) {
    this.calls.push({ verb: 'delete', resource: res.plural, key: `${namespace}/${name}` });
    this.remove(res, namespace, name);
  }

  /** The calls that changed something, as "verb resource key". */
  writes(): string[] {
    return this.calls
      .filter((c) => !['get', 'list', 'watch'].includes(c.verb))
      .map((c) => `${c.verb} ${c.resource} ${c.key}`);
  }

  private checkVersion(res: Resource, namespace: string, name: string, body: KubeObject): KubeObject {
    const current = this.objects.get(this.storeKey(res, namespace, name));
    if (!current) throw new HttpError(404, `${res.plural} "${name}" not found`);
    if (body.metadata?.resourceVersion !== current.metadata?.resourceVersion) {
      throw new HttpError(
        409,
        `the object has been modified; please apply your changes to the latest version`,
      );
    }
    return current;
  }
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}
