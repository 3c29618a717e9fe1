// One glog-style line (`I1128 04:13:50.123456  4242 file.cpp:12] message`), the shape Caffe's logs have,
// so the backend's choice reads like the rest of a Caffe log.

export type Severity = 'I' | 'W' | 'E' | 'F';

export function glogLine(
  severity: Severity,
  source: string,
  message: string,
  now: Date,
  threadId: number,
): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${two(now.getMonth() + 1)}${two(now.getDate())}`;
  const time = `${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
  const micros = String(now.getMilliseconds() * 1000).padStart(6, '0');
  return `${severity}${date} ${time}.${micros} ${String(threadId).padStart(5, ' ')} ${source}] ${message}`;
}
