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
