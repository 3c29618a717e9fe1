// Ending a pod's processes the way a kubelet does: preStop hooks first, then SIGTERM, and SIGKILL for
// whatever is still running when the grace period is over.

import type { V1Container } from '@kubernetes/client-node';
import type { Logger } from 'pino';

import type { PodFolder } from './pod-folder.js';
import { type LocalProcess, startProcess } from './process.js';

export interface StopRequest {
  /** The running processes by container name; the worker removes each as it exits. */
  processes: ReadonlyMap<string, LocalProcess>;
  graceMs: number;
  /** False when the kubelet itself is stopping: no hooks, only signals. */
  runPreStopHooks: boolean;
  containerSpec: (name: string) => V1Container;
  folder: PodFolder;
  hostEnv: Record<string, string>;
  log: Logger;
}

/** Runs preStop hooks, sends SIGTERM, waits up to graceMs for every process, then SIGKILL. */
export async function stopProcesses(request: StopRequest): Promise<void> {
  const { processes, graceMs } = request;
  const deadline = Date.now() + graceMs;
  const exits = [...processes.values()].map((p) => p.exited);
  if (request.runPreStopHooks) await runPreStopHooks(request);
  for (const proc of processes.values()) proc.signal('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) =>
    setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now())),
  );
  const outcome = await Promise.race([Promise.all(exits), timer]);
  if (outcome === 'timeout') {
    for (const proc of processes.values()) proc.signal('SIGKILL');
    await Promise.all(exits);
  }
}

async function runPreStopHooks(request: StopRequest): Promise<void> {
  const { processes, graceMs, folder, log } = request;
  const hooks = [...processes.keys()].flatMap((name) => {
    const command = request.containerSpec(name).lifecycle?.preStop?.exec?.command;
    return command && command.length > 0 ? [{ name, command }] : [];
  });
  await Promise.all(
    hooks.map(async ({ name, command }) => {
      try {
        const hook = await startProcess({
          argv: command,
          env: { ...request.hostEnv },
          cwd: folder.path,
          logPath: folder.preStopLogPath(name),
        });
        const timer = setTimeout(() => hook.signal('SIGKILL'), graceMs);
        await hook.exited;
        clearTimeout(timer);
      } catch (error) {
        log.warn({ container: name, err: error }, 'preStop hook failed');
      }
    }),
  );
}
