// Container log files: `<container>.log` holds the lines a container wrote to stdout and stderr, in
// the order they arrived; `<container>.log.times` holds one fixed-width timestamp per line of it, so
// `kubectl logs --timestamps` and tailing can find line i's time at byte i * TIME_WIDTH.

import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeSync,
} from 'node:fs';

/** Bytes per entry of a .times file: RFC 3339 with nanoseconds and a newline. */
export const TIME_WIDTH = 31;
/** A partial line longer than this is written out without waiting for its newline. */
const MAX_PARTIAL_LINE = 16 * 1024;

export function timesPathOf(logPath: string): string {
  return `${logPath}.times`;
}

/** 2026-11-28T04:06:13.123000000Z: fixed width (milliseconds padded to nanoseconds). */
function logTimestamp(time: Date): string {
  return time.toISOString().replace(/Z$/, '000000Z');
}

/** Appends whole lines from several streams to one log file, with a timestamp per line. */
export class LogWriter {
  private readonly logFd: number;
  private readonly timesFd: number;
  private readonly partial = new Map<string, Buffer>();
  private closed = false;

  constructor(
    logPath: string,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.logFd = openSync(logPath, 'a');
    this.timesFd = openSync(timesPathOf(logPath), 'a');
  }

  /** Adds bytes read from one stream (e.g. 'stdout'); complete lines are written at once. */
  write(stream: string, chunk: Buffer): void {
    if (this.closed) return; // output of a process left behind after its container ended
    let data = Buffer.concat([this.partial.get(stream) ?? Buffer.alloc(0), chunk]);
    let newline = data.lastIndexOf(0x0a);
    if (newline < 0 && data.length > MAX_PARTIAL_LINE) {
      data = Buffer.concat([data, Buffer.from('\n')]);
      newline = data.length - 1;
    }
    if (newline < 0) {
      this.partial.set(stream, data);
      return;
    }
    this.append(data.subarray(0, newline + 1));
    this.partial.set(stream, data.subarray(newline + 1));
  }

  /** Writes out partial lines (ended with a newline) and closes the files. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const rest of this.partial.values()) {
      if (rest.length > 0) this.append(Buffer.concat([rest, Buffer.from('\n')]));
    }
    this.partial.clear();
    closeSync(this.logFd);
    closeSync(this.timesFd);
  }

  private append(lines: Buffer): void {
    let count = 0;
    for (const byte of lines) if (byte === 0x0a) count++;
    writeSync(this.logFd, lines);
    writeSync(this.timesFd, `${logTimestamp(this.clock())}\n`.repeat(count));
  }
}

/**
 * Byte offset where the last `lines` lines of a file begin, reading backwards in chunks. A file that
 * does not end with a newline counts its unfinished last line as a line.
 */
export function tailOffset(fd: number, size: number, lines: number): number {
  if (lines <= 0) return size;
  const chunk = Buffer.alloc(64 * 1024);
  let seen = 0;
  let end = size;
  let skipFinalNewline = true;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const length = end - start;
    readSync(fd, chunk, 0, length, start);
    for (let i = length - 1; i >= 0; i--) {
      if (chunk[i] !== 0x0a) {
        skipFinalNewline = false;
        continue;
      }
      if (skipFinalNewline) {
        skipFinalNewline = false;
        continue;
      }
      seen++;
      if (seen === lines) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

/** Line count of a log file as recorded by its .times file (0 when it has none). */
export function recordedLines(timesPath: string): number {
  try {
    const fd = openSync(timesPath, 'r');
    try {
      return Math.floor(fstatSync(fd).size / TIME_WIDTH);
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}

/** The timestamp of line `index` from an open .times file, or '' when it has none. */
export function timeOfLine(timesFd: number, index: number): string {
  const entry = Buffer.alloc(TIME_WIDTH - 1);
  const read = readSync(timesFd, entry, 0, entry.length, index * TIME_WIDTH);
  return read === entry.length ? entry.toString('latin1') : '';
}

/** Counts newlines in a buffer. */
export function countLines(data: Buffer): number {
  let count = 0;
  for (const byte of data) if (byte === 0x0a) count++;
  return count;
}

/** Keeps the log of the run before (for `kubectl logs --previous`). */
export function rotateLog(current: string, previous: string): void {
  if (!existsSync(current)) return;
  renameSync(current, previous);
  if (existsSync(timesPathOf(current))) renameSync(timesPathOf(current), timesPathOf(previous));
}

/** The first maxBytes of a file as text ('' when it does not exist). */
export function readHead(path: string, maxBytes: number): string {
  try {
    return readFileSync(path).subarray(0, maxBytes).toString('utf8');
  } catch {
    return '';
  }
}

/** The last lines of a log, at most maxBytes (the termination message fallback). */
export function readLogTail(path: string, lines: number, maxBytes: number): string {
  try {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const start = tailOffset(fd, size, lines);
      const tail = Buffer.alloc(size - start);
      readSync(fd, tail, 0, tail.length, start);
      const text = tail.at(-1) === 0x0a ? tail.subarray(0, -1) : tail;
      return text.subarray(Math.max(0, text.length - maxBytes)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}
