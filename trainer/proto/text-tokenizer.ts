// Splits protobuf text format into tokens, each with its 1-based line and column.
import { BadInputError } from '../contract/errors.js';

export type TokenKind = 'identifier' | 'number' | 'string' | 'symbol' | 'end';

export interface Token {
  kind: TokenKind;
  /** The source text; for strings, the decoded bytes as a latin1 string (one char per byte). */
  text: string;
  line: number;
  column: number;
}

const NUMBER =
  /^(?:0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?[fF]?|\.[0-9]+(?:[eE][+-]?[0-9]+)?[fF]?)/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*/;
const SYMBOLS = '{}<>[]:;,-/.';
const SIMPLE_ESCAPES: Record<string, number> = {
  n: 10,
  r: 13,
  t: 9,
  a: 7,
  b: 8,
  f: 12,
  v: 11,
  '\\': 92,
  "'": 39,
  '"': 34,
  '?': 63,
};

export function tokenize(text: string, fileName: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  const where = (at: number) => `${fileName}:${line}:${at - lineStart + 1}`;
  while (pos < text.length) {
    const ch = text[pos]!;
    if (ch === '\n') {
      pos++;
      line++;
      lineStart = pos;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v') {
      pos++;
      continue;
    }
    if (ch === '#') {
      while (pos < text.length && text[pos] !== '\n') pos++;
      continue;
    }
    const column = pos - lineStart + 1;
    const rest = text.slice(pos, pos + 400);
    if (ch === '"' || ch === "'") {
      const { value, end } = readString(text, pos, where);
      tokens.push({ kind: 'string', text: value, line, column });
      pos = end;
      continue;
    }
    const number = /^[0-9.]/.test(ch) ? NUMBER.exec(rest) : null;
    if (number) {
      const after = text[pos + number[0].length];
      if (after !== undefined && /[A-Za-z0-9_.]/.test(after)) {
        const bad = /^[A-Za-z0-9_.+-]+/.exec(rest)?.[0] ?? number[0];
        throw new BadInputError(`invalid number '${bad}'`, where(pos));
      }
      tokens.push({ kind: 'number', text: number[0], line, column });
      pos += number[0].length;
      continue;
    }
    const identifier = IDENTIFIER.exec(rest);
    if (identifier) {
      tokens.push({ kind: 'identifier', text: identifier[0], line, column });
      pos += identifier[0].length;
      continue;
    }
    if (SYMBOLS.includes(ch)) {
      tokens.push({ kind: 'symbol', text: ch, line, column });
      pos++;
      continue;
    }
    throw new BadInputError(`unexpected character '${ch}'`, where(pos));
  }
  tokens.push({ kind: 'end', text: '', line, column: pos - lineStart + 1 });
  return tokens;
}

/** Reads a quoted string with C escapes; the value holds one char per byte (latin1). */
function readString(
  text: string,
  start: number,
  where: (at: number) => string,
): { value: string; end: number } {
  const quote = text[start]!;
  const bytes: number[] = [];
  let pos = start + 1;
  while (true) {
    const ch = text[pos];
    if (ch === undefined || ch === '\n') throw new BadInputError('unterminated string', where(start));
    if (ch === quote) break;
    if (ch !== '\\') {
      // A literal character: store its UTF-8 bytes.
      const codePoint = text.codePointAt(pos)!;
      for (const b of new TextEncoder().encode(String.fromCodePoint(codePoint))) bytes.push(b);
      pos += codePoint > 0xffff ? 2 : 1;
      continue;
    }
    const next = text[pos + 1];
    if (next === undefined) throw new BadInputError('unterminated string', where(start));
    if (next in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[next]!);
      pos += 2;
    } else if (/[0-7]/.test(next)) {
      const octal = /^[0-7]{1,3}/.exec(text.slice(pos + 1, pos + 4))![0];
      bytes.push(Number.parseInt(octal, 8) & 0xff);
      pos += 1 + octal.length;
    } else if (next === 'x' || next === 'X') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(text.slice(pos + 2, pos + 4))?.[0];
      if (!hex) throw new BadInputError('\\x escape without hex digits', where(pos));
      bytes.push(Number.parseInt(hex, 16));
      pos += 2 + hex.length;
    } else {
      throw new BadInputError(`invalid escape '\\${next}' in string`, where(pos));
    }
  }
  return { value: String.fromCharCode(...bytes), end: pos + 1 };
}
