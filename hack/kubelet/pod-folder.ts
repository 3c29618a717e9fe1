// The pod's folder on this host: where each container's log, termination message, pid and root are, and
// what the kubelet reads back from them when a container ends.

import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { Logger } from 'pino';

import { readHead, readLogTail } from './log-files.js';

/** Kubernetes keeps at most 4096 bytes of a termination message. */
const MAX_MESSAGE_BYTES = 4096;
/** FallbackToLogsOnError: the last 80 lines of the log, or its last 2048 bytes when that is less. */
const FALLBACK_LOG_LINES = 80;
const FALLBACK_LOG_BYTES = 2048;

export class PodFolder {
  readonly path: string;

  constructor(stateDir: string, meta: V1ObjectMeta) {
    this.path = join(stateDir, 'pods', `${meta.namespace}_${meta.name}_${meta.uid}`);
  }

  /** The log file of a container's current run, or of its previous run. */
  logPath(container: string, previous: boolean): string {
    return join(this.path, previous ? `${container}.previous.log` : `${container}.log`);
  }

  terminationMessagePath(container: string): string {
    return join(this.path, `${container}.termination-log`);
  }

  pidPath(container: string): string {
    return join(this.path, `${container}.pid`);
  }

  preStopLogPath(container: string): string {
    return join(this.path, `${container}.prestop.log`);
  }

  containerRoot(container: string): string {
    return join(this.path, 'rootfs', container);
  }

  /**
   * The folder a container starts in: its workingDir (made when it is inside the pod folder), or the pod
   * folder when the workingDir does not exist on this host.
   */
  workingDir(cwd: string, log: Logger): string {
    if (cwd.startsWith(this.path)) mkdirSync(cwd, { recursive: true });
    if (existsSync(cwd) && statSync(cwd).isDirectory()) return cwd;
    log.warn({ workingDir: cwd }, 'workingDir does not exist on this host: using the pod folder');
    return this.path;
  }

  /** What the container wrote to its termination message file, or its log's tail when the policy says so. */
  terminationMessage(container: string, failed: boolean, policy: string | undefined): string {
    const message = readHead(this.terminationMessagePath(container), MAX_MESSAGE_BYTES);
    if (message || !failed || policy !== 'FallbackToLogsOnError') return message;
    return readLogTail(this.logPath(container, false), FALLBACK_LOG_LINES, FALLBACK_LOG_BYTES);
  }
}
