// Text from a damaged file, made fit for a one-line error message: control characters (a newline in
// a JSON snippet, a NUL in a record key) are shown as \u{..} escapes instead of breaking the line.
export function oneLine(text: string): string {
  return text.replace(/\p{C}/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
