// The kubelet's HTTPS endpoint: GET /containerLogs/{namespace}/{pod}/{container} with follow,
// tailLines, limitBytes, timestamps and previous, which the apiserver proxies `kubectl logs` to, and
// /healthz. One server serves every node of this kubelet: the path names the pod.

import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';

import type { Logger } from 'pino';

import { countLines, recordedLines, tailOffset, timeOfLine, timesPathOf } from './log-files.js';

const CHUNK = 64 * 1024;
const FOLLOW_POLL_MS = 250;

/** What the log server needs to know about a pod (a PodWorker provides it). */
export interface PodLogs {
  hasContainer(container: string): boolean;
  isRunning(container: string): boolean;
  logPath(container: string, previous: boolean): string;
}

export interface LogQuery {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
}

/** Query parameters as the apiserver passes them; a malformed number is an error message. */
export function parseLogQuery(params: URLSearchParams): LogQuery | string {
  const flag = (name: string) => params.get(name) === 'true' || params.get(name) === '1';
  const query: LogQuery = {
    follow: flag('follow'),
    previous: flag('previous'),
    timestamps: flag('timestamps'),
  };
  for (const name of ['tailLines', 'limitBytes'] as const) {
    const text = params.get(name);
    if (text === null) continue;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0)
      return `${name}: expected a whole number >= 0, received '${text}'`;
    query[name] = value;
  }
  return query;
}

export function startLogServer(options: {
  port: number;
  certFile: string;
  keyFile: string;
  findPod: (namespace: string, name: string) => PodLogs | undefined;
  log: Logger;
}): Promise<Server> {
  const server = createServer(
    { cert: readFileSync(options.certFile), key: readFileSync(options.keyFile) },
    (req, res) => {
      handle(req, res, options.findPod).catch((error) => {
        options.log.warn({ err: error, url: req.url }, 'log request failed');
        if (!res.headersSent) reply(res, 500, String(error));
        else res.end();
      });
    },
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve(server));
  });
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  findPod: (namespace: string, name: string) => PodLogs | undefined,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://localhost');
  if (url.pathname === '/healthz') return reply(res, 200, 'ok');
  const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
  if (req.method !== 'GET' || !match) return reply(res, 404, `not found: ${req.method} ${url.pathname}`);
  const [namespace, name, container] = match.slice(1).map(decodeURIComponent) as [string, string, string];
  const query = parseLogQuery(url.searchParams);
  if (typeof query === 'string') return reply(res, 400, query);
  const pod = findPod(namespace, name);
  if (!pod) return reply(res, 404, `pod "${name}" in namespace "${namespace}" is not on this kubelet`);
  if (!pod.hasContainer(container)) {
    return reply(res, 400, `container ${container} is not valid for pod ${name}`);
  }
  const path = pod.logPath(container, query.previous);
  if (!existsSync(path)) {
    const why = query.previous
      ? `previous terminated container "${container}" in pod "${name}" not found`
      : `container "${container}" in pod "${name}" is waiting to start: no log yet`;
    return reply(res, 400, why);
  }
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  const following = () => query.follow && !query.previous && pod.isRunning(container) && !closed;
  await streamLog(path, query, (chunk) => res.write(chunk), following);
  res.end();
}

/**
 * Sends a log file (from the start of its last tailLines lines), with each line's timestamp when
 * asked, stopping after limitBytes; while following() holds, waits for more at the end.
 */
export async function streamLog(
  path: string,
  query: LogQuery,
  send: (chunk: Buffer) => void,
  following: () => boolean,
): Promise<void> {
  const fd = openSync(path, 'r');
  const timesFd = query.timestamps ? openTimes(path) : undefined;
  try {
    const size = fstatSync(fd).size;
    let position = query.tailLines === undefined ? 0 : tailOffset(fd, size, query.tailLines);
    let lineIndex = 0;
    if (timesFd !== undefined && position > 0) {
      const region = Buffer.alloc(size - position);
      readSync(fd, region, 0, region.length, position);
      lineIndex = recordedLines(timesPathOf(path)) - countLines(region);
    }
    let budget = query.limitBytes ?? Number.POSITIVE_INFINITY;
    let partial = Buffer.alloc(0);
    const buffer = Buffer.alloc(CHUNK);
    while (budget > 0) {
      const read = readSync(fd, buffer, 0, CHUNK, position);
      if (read === 0) {
        if (!following()) break;
        await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
        continue;
      }
      position += read;
      let out = buffer.subarray(0, read);
      if (timesFd !== undefined) {
        const data = Buffer.concat([partial, out]);
        const end = data.lastIndexOf(0x0a) + 1;
        partial = Buffer.from(data.subarray(end));
        const lines: Buffer[] = [];
        let from = 0;
        while (from < end) {
          const newline = data.indexOf(0x0a, from);
          lines.push(Buffer.from(`${timeOfLine(timesFd, lineIndex++)} `), data.subarray(from, newline + 1));
          from = newline + 1;
        }
        out = Buffer.concat(lines);
      }
      if (out.length > budget) out = out.subarray(0, budget);
      budget -= out.length;
      if (out.length > 0) send(Buffer.from(out));
    }
    if (partial.length > 0 && budget > 0) send(partial.subarray(0, budget));
  } finally {
    closeSync(fd);
    if (timesFd !== undefined) closeSync(timesFd);
  }
}

function openTimes(logPath: string): number | undefined {
  try {
    return openSync(timesPathOf(logPath), 'r');
  } catch {
    return undefined;
  }
}

function reply(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}
