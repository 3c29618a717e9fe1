// Events for the operator's decisions, as events.k8s.io/v1 objects (kubectl describe shows them).
import type { Logger } from 'pino';

import type { Clock } from './clock.js';
import type { KubeClient, KubeObject, Resource } from './kube-client.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** reason: one CamelCase word; action: what the operator did; note: a sentence for the user. */
  record(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): void;
}

export const EVENTS: Resource = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event' };
export const REPORTING_CONTROLLER = 'caffe.brewery.dev/operator';

/** Writes events through the client; a failure to record is logged, never raised. */
export function kubeEventRecorder(
  client: KubeClient,
  clock: Clock,
  log: Logger,
  instance: string,
): EventRecorder {
  return {
    record(regarding, type, reason, action, note) {
      const { name, namespace, uid, resourceVersion } = regarding.metadata ?? {};
      if (!name || !namespace) return;
      const now = clock.now();
      const event: KubeObject = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: `${name}.${now.getTime().toString(16)}${randomSuffix()}`, namespace },
        eventTime: microTime(now),
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: instance,
        action,
        reason,
        type,
        note: note.slice(0, 1024),
        regarding: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          name,
          namespace,
          uid,
          resourceVersion,
        },
      };
      client.create(EVENTS, namespace, event).catch((error: unknown) => {
        log.warn({ key: `${namespace}/${name}`, reason, err: String(error) }, 'could not record an event');
      });
    },
  };
}

/** An event recorder that keeps events in memory, for tests. */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: { key: string; type: EventType; reason: string; action: string; note: string }[] = [];

  record(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): void {
    const { namespace, name } = regarding.metadata ?? {};
    this.events.push({ key: `${namespace}/${name}`, type, reason, action, note });
  }
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function randomSuffix(): string {
  return Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, '0');
}
