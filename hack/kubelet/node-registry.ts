// The Nodes this kubelet serves: created or adopted at start, kept alive with a Lease per node
// (renewed every 10 s) and a Ready heartbeat in the node status, so the controller-manager's
// node-lifecycle controller sees healthy nodes. Taints and labels set by others are never removed.

import { readFileSync } from 'node:fs';
import { release, version } from 'node:os';

import type { V1Node } from '@kubernetes/client-node';
import type { Logger } from 'pino';

import type { NodeApi } from './cluster-client.js';
import type { NodeSpec } from './flags.js';
import { HOST_IP } from './pod-record.js';
import { rfc3339 } from './pod-status.js';

export const LOCAL_NODE_LABEL = 'brewery.dev/local-node';
export const RUNTIME_VERSION = 'brewery-local://0.1';
const LEASE_DURATION_SECONDS = 40;
const LEASE_RENEW_MS = 10_000;
const STATUS_HEARTBEAT_MS = 20_000;

const CONDITIONS = [
  { type: 'Ready', healthy: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
  {
    type: 'MemoryPressure',
    healthy: 'False',
    reason: 'KubeletHasSufficientMemory',
    message: 'kubelet has sufficient memory available',
  },
  {
    type: 'DiskPressure',
    healthy: 'False',
    reason: 'KubeletHasNoDiskPressure',
    message: 'kubelet has no disk pressure',
  },
  {
    type: 'PIDPressure',
    healthy: 'False',
    reason: 'KubeletHasSufficientPID',
    message: 'kubelet has sufficient PID available',
  },
] as const;

export interface HostInfo {
  kubeletVersion: string;
  port: number;
  machineID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
}

export function nodeLabels(name: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    [LOCAL_NODE_LABEL]: 'true',
  };
}

/**
 * A strategic merge patch of a node's status: capacity and allocatable (null for resources the
 * stored node has and the flags no longer give, so they are removed), addresses, endpoint, node info
 * and healthy conditions with a fresh heartbeat. lastTransitionTime is sent only for a condition whose
 * stored status differs; otherwise the patch leaves the stored one in place.
 */
export interface NodeStatusPatch {
  capacity: Record<string, string | null>;
  allocatable: Record<string, string | null>;
  addresses: Array<{ type: string; address: string }>;
  daemonEndpoints: { kubeletEndpoint: { Port: number } };
  nodeInfo: Record<string, string>;
  conditions: Array<Record<string, string>>;
}

export function nodeStatusPatch(
  spec: NodeSpec,
  host: HostInfo,
  stored: V1Node | undefined,
  now: Date,
): NodeStatusPatch {
  const resources: Record<string, string | null> = { ...spec.capacity };
  for (const name of Object.keys(stored?.status?.capacity ?? {})) {
    if (!(name in spec.capacity)) resources[name] = null;
  }
  const heartbeat = rfc3339(now);
  const conditions = CONDITIONS.map((c) => {
    const previous = stored?.status?.conditions?.find((s) => s.type === c.type);
    const condition: Record<string, string> = {
      type: c.type,
      status: c.healthy,
      reason: c.reason,
      message: c.message,
      lastHeartbeatTime: heartbeat,
    };
    if (previous?.status !== c.healthy) condition.lastTransitionTime = heartbeat;
    return condition;
  });
  return {
    capacity: resources,
    allocatable: resources,
    addresses: [
      { type: 'InternalIP', address: HOST_IP },
      { type: 'Hostname', address: spec.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: host.port } },
    nodeInfo: {
      machineID: host.machineID,
      systemUUID: host.machineID,
      bootID: host.bootID,
      kernelVersion: host.kernelVersion,
      osImage: host.osImage,
      containerRuntimeVersion: RUNTIME_VERSION,
      kubeletVersion: host.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
    conditions,
  };
}

export function leaseSpec(nodeName: string, now: Date): object {
  return {
    holderIdentity: nodeName,
    leaseDurationSeconds: LEASE_DURATION_SECONDS,
    // A MicroTime: exactly six fractional digits.
    renewTime: now.toISOString().replace(/Z$/, '000Z'),
  };
}

export class NodeRegistry {
  private readonly nodes = new Map<string, V1Node | undefined>();
  private timers: NodeJS.Timeout[] = [];
  private host?: HostInfo;

  constructor(
    private readonly api: NodeApi,
    private readonly specs: NodeSpec[],
    private readonly port: number,
    private readonly log: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Creates or adopts every node, writes its status and its first lease. */
  async register(): Promise<void> {
    this.host = { ...readHostInfo(), kubeletVersion: await this.api.serverVersion(), port: this.port };
    for (const spec of this.specs) {
      let node = await this.api.readNode(spec.name);
      if (node) {
        node = await this.api.patchNode(spec.name, { metadata: { labels: nodeLabels(spec.name) } });
        this.log.info({ node: spec.name }, 'adopted existing node');
      } else {
        node = await this.api.createNode({
          metadata: { name: spec.name, labels: nodeLabels(spec.name) },
          spec: {},
        });
        this.log.info({ node: spec.name }, 'created node');
      }
      this.nodes.set(spec.name, node);
      await this.heartbeat(spec);
      await this.renewLease(spec);
    }
  }

  /** Starts lease renewals and status heartbeats. */
  start(): void {
    for (const spec of this.specs) {
      this.timers.push(setInterval(() => void this.renewLease(spec), LEASE_RENEW_MS));
      this.timers.push(setInterval(() => void this.heartbeat(spec), STATUS_HEARTBEAT_MS));
    }
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** Ready=False on every node, giving up after timeoutMs (the kubelet is stopping). */
  async markNotReady(timeoutMs: number): Promise<void> {
    const now = rfc3339(this.clock());
    const patches = this.specs.map((spec) =>
      this.api
        .patchNodeStatus(spec.name, {
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'KubeletNotReady',
              message: 'the kubelet is stopping',
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
        })
        .catch((error) => this.log.warn({ err: error, node: spec.name }, 'marking node NotReady failed')),
    );
    const timeout = new Promise((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([Promise.all(patches), timeout]);
  }

  private async heartbeat(spec: NodeSpec): Promise<void> {
    try {
      const patch = nodeStatusPatch(spec, this.host!, this.nodes.get(spec.name), this.clock());
      this.nodes.set(spec.name, await this.api.patchNodeStatus(spec.name, patch));
    } catch (error) {
      this.log.warn({ err: error, node: spec.name }, 'node status heartbeat failed');
    }
  }

  private async renewLease(spec: NodeSpec): Promise<void> {
    try {
      await this.api.renewLease(
        spec.name,
        this.nodes.get(spec.name)?.metadata?.uid,
        leaseSpec(spec.name, this.clock()),
      );
    } catch (error) {
      this.log.warn({ err: error, node: spec.name }, 'lease renewal failed');
    }
  }
}

function readHostInfo(): Omit<HostInfo, 'kubeletVersion' | 'port'> {
  const read = (path: string, fallback: string) => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return fallback;
    }
  };
  return {
    machineID: read('/etc/machine-id', 'brewery-local'),
    bootID: read('/proc/sys/kernel/random/boot_id', 'brewery-local'),
    kernelVersion: release(),
    osImage: `Brewery local processes (${version()})`,
  };
}
