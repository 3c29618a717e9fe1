// Spawning a container as a local process in its own process group, signalling the whole group, and
// collecting its output into the container's log file.

import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { isAbsolute, join } from 'node:path';

import { LogWriter } from './log-files.js';

export interface ProcessExit {
  /** The exit code, or 128 + signal number when a signal ended it (as container runtimes report). */
  exitCode: number;
  signal?: number;
  finishedAt: Date;
}

export interface LocalProcess {
  pid: number;
  startedAt: Date;
  /** Resolves when the main process has exited, its group is killed and its output written. */
  exited: Promise<ProcessExit>;
  /** Sends a signal to the whole process group; a group already gone is ignored. */
  signal(signal: NodeJS.Signals): void;
}

export interface SpawnRequest {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logPath: string;
  /**
   * cgroup.procs files the container's first process joins before it runs the program, so the program
   * and everything it starts live under the container's limits from their first instruction.
   */
  cgroupProcs?: string[];
}

/** Process groups started and not yet ended, so none outlives the kubelet (see killAllGroups). */
const liveGroups = new Set<number>();

/** How long to wait for the pipes to close after the process group was killed. */
const OUTPUT_DRAIN_MS = 2000;

/** Starts a process; rejects when it cannot start at all (e.g. the program does not exist). */
export function startProcess(
  request: SpawnRequest,
  clock: () => Date = () => new Date(),
): Promise<LocalProcess> {
  if (!request.argv[0]) return Promise.reject(new Error('the container has an empty command line'));
  const joins = request.cgroupProcs ?? [];
  if (joins.length > 0 && !findProgram(request.argv[0], request.env.PATH ?? '', request.cwd)) {
    // The shell would report it as exit 127; a runtime reports a program that is not there as a start error.
    return Promise.reject(new Error(`spawn ${request.argv[0]} ENOENT`));
  }
  const [program, ...args] = joins.length > 0 ? joiningArgv(request.argv, joins) : request.argv;
  const logs = new LogWriter(request.logPath, clock);
  const child = spawn(program!, args, {
    cwd: request.cwd,
    env: request.env,
    detached: true, // its own process group, so a signal reaches every process the container started
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => logs.write('stdout', chunk));
  child.stderr.on('data', (chunk: Buffer) => logs.write('stderr', chunk));

  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      logs.close();
      reject(error);
    });
    child.once('spawn', () => {
      const pid = child.pid!;
      liveGroups.add(pid);
      const signal = (name: NodeJS.Signals) => signalGroup(pid, name);
      const exited = new Promise<ProcessExit>((resolveExit) => {
        child.once('exit', (code, signalName) => {
          const finishedAt = clock();
          // A container ends with its main process: whatever it left behind goes too.
          signalGroup(pid, 'SIGKILL');
          liveGroups.delete(pid);
          const number = signalName ? constants.signals[signalName] : undefined;
          const exit: ProcessExit =
            number !== undefined
              ? { exitCode: 128 + number, signal: number, finishedAt }
              : { exitCode: code ?? 0, finishedAt };
          whenOutputDrained(child.stdout, child.stderr).then(() => {
            logs.close();
            resolveExit(exit);
          });
        });
      });
      resolve({ pid, startedAt: clock(), exited, signal });
    });
  });
}

/**
 * A shell that writes its own pid into each cgroup.procs file, then execs the program in its place
 * (same pid, same process group): nothing of the container runs before it is in its cgroups.
 */
export function joiningArgv(argv: string[], procsFiles: string[]): string[] {
  const joins = procsFiles.map((file) => `echo $$ > ${shellQuote(file)}`).join(' && ');
  return ['/bin/sh', '-c', `${joins} && exec "$@"`, argv[0]!, ...argv];
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Whether program would be found as execvp finds it (a path, or a name on PATH). */
function findProgram(program: string, path: string, cwd: string): boolean {
  const candidates = program.includes('/')
    ? [isAbsolute(program) ? program : join(cwd, program)]
    : path.split(':').map((dir) => join(dir || '.', program));
  return candidates.some((file) => {
    try {
      accessSync(file, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** SIGKILLs every process group still running; safe to call from a process 'exit' handler. */
export function killAllGroups(): number {
  for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
  return liveGroups.size;
}

/** Sends a signal to process group pid; false when the group no longer exists. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function whenOutputDrained(...streams: NodeJS.ReadableStream[]): Promise<void> {
  const closed = streams.map(
    (stream) =>
      new Promise<void>((resolve) => {
        const s = stream as NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean };
        if (s.readableEnded || s.destroyed) resolve();
        else stream.once('close', () => resolve());
      }),
  );
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, OUTPUT_DRAIN_MS).unref());
  return Promise.race([Promise.all(closed).then(() => undefined), timeout]);
}

/**
 * Writes "pid starttime" so a later kubelet run can kill a process group that outlived a kubelet
 * killed without warning, and be sure the pid was not reused by another program since.
 */
export function recordPid(path: string, pid: number): void {
  writeFileSync(path, `${pid} ${processStartTime(pid) ?? ''}\n`);
}

/** Kills the process group recorded in a pid file if that very process still runs; true if killed. */
export function killRecorded(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  const [pidText, started] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 1 || !started || processStartTime(pid) !== started) return false;
  return signalGroup(pid, 'SIGKILL');
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
