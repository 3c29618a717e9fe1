// glog's line shape (`I1128 04:13:50.123456  4242 solver.cpp:218] message`): every log line the
// trainer prints has it, so the tools people use on Caffe logs (parse_log.py, plot scripts) work.

export type Severity = 'I' | 'W' | 'E' | 'F';

/**
 * One glog line. `now` is a Date or epoch milliseconds (a fraction carries microseconds).
 * Caffe compat: glog prints local time; we print UTC, which is a pod's local time anyway, and a fixed
 * zone keeps lines from different nodes comparable.
 */
export function glogLine(
  severity: Severity,
  source: string,
  message: string,
  now: Date | number,
  threadId: number,
): string {
  const micros = Math.round((typeof now === 'number' ? now : now.getTime()) * 1000);
  const date = new Date(Math.floor(micros / 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp =
    `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}.` +
    String(micros % 1_000_000).padStart(6, '0');
  return `${severity}${stamp} ${String(threadId).padStart(5, ' ')} ${source}] ${message}`;
}

/**
 * A Caffe tool's logger: the message, where it is logged (a line of the tool's own source file, or
 * `file.cpp:line` for another file), the severity.
 */
export type ToolLog = (message: string, at: number | string, severity?: Severity) => void;

/**
 * Glog lines to stderr for a Caffe tool whose source file is `file` (e.g. `convert_imageset.cpp`), as the
 * tool's LOG(INFO) writes them: `I1205 21:00:56.123456 12345 convert_imageset.cpp:147] Processed 1000 files.`
 */
export function toolLog(
  file: string,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): ToolLog {
  return (message, at, severity = 'I') =>
    write(
      glogLine(severity, typeof at === 'number' ? `${file}:${at}` : at, message, Date.now(), process.pid),
    );
}
