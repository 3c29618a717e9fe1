// Protobuf text format (prototxt) → message, with the rules of protobuf's TextFormat::Parse that Caffe uses.
// Every error is a BadInputError whose `where` is "file:line:column".
import protobuf from 'protobufjs';

import { BadInputError } from '../contract/errors.js';
import { fieldByProtoName, messageType } from './root.js';
import { type Token, tokenize } from './text-tokenizer.js';

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};
const BOOL_WORDS: Record<string, boolean> = {
  true: true,
  True: true,
  t: true,
  false: false,
  False: false,
  f: false,
};

/** Parses the body of one message of type `messageName` (a whole prototxt file). */
export function parseTextMessage<T>(messageName: string, text: string, fileName: string): T {
  return new TextParser(tokenize(text, fileName), fileName).parseFile(messageType(messageName)) as T;
}

class TextParser {
  private pos = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly fileName: string,
  ) {}

  parseFile(type: protobuf.Type): Record<string, unknown> {
    return this.parseFields(type, undefined);
  }

  /** Reads fields until `closer` (or the end of the file when `closer` is undefined). */
  private parseFields(type: protobuf.Type, closer: string | undefined): Record<string, unknown> {
    const message: Record<string, unknown> = {};
    while (true) {
      const token = this.peek();
      if (closer === undefined ? token.kind === 'end' : this.isSymbol(token, closer)) {
        this.pos++;
        return message;
      }
      if (token.kind === 'end') this.fail(token, `expected '${closer}' before the end of the file`);
      this.parseField(type, message);
    }
  }

  private parseField(type: protobuf.Type, message: Record<string, unknown>): void {
    const nameToken = this.next();
    if (nameToken.kind !== 'identifier') {
      this.fail(nameToken, `expected a field name of ${type.name}, received '${nameToken.text}'`);
    }
    const name = nameToken.text;
    const field = fieldByProtoName(type, name);
    if (!field) {
      this.fail(nameToken, `unknown field "${name}" in ${type.name}`);
    }
    const key = field.name;
    if (!field.repeated && key in message) {
      this.fail(nameToken, `non-repeated field "${name}" is specified multiple times`);
    }
    if (field.type === 'bytes' && type.name === 'V1LayerParameter' && name === 'layer') {
      this.fail(nameToken, 'V0 layer definitions (layers { layer { ... } }) are not supported');
    }
    const isMessage = field.resolvedType instanceof protobuf.Type;
    const hasColon = this.takeSymbol(':');
    if (!isMessage && !hasColon) this.fail(this.peek(), `expected ':' after field "${name}"`);

    const values: unknown[] = [];
    if (hasColon && this.isSymbol(this.peek(), '[')) {
      // List syntax `name: [a, b]` (newer protobuf; Caffe's own files do not use it).
      if (!field.repeated)
        this.fail(nameToken, `field "${name}" is not repeated; list syntax is not allowed`);
      this.pos++;
      if (!this.takeSymbol(']')) {
        do values.push(this.parseValue(field, name));
        while (this.takeSymbol(','));
        this.expectSymbol(']', name);
      }
    } else {
      values.push(this.parseValue(field, name));
    }
    if (field.repeated && values.length > 0) {
      const list = (message[key] as unknown[] | undefined) ?? [];
      list.push(...values);
      message[key] = list;
    } else if (!field.repeated) {
      message[key] = values[0];
    }
    // Historical optional separators.
    if (!this.takeSymbol(';')) this.takeSymbol(',');
  }

  private parseValue(field: protobuf.Field, name: string): unknown {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      const open = this.next();
      if (this.isSymbol(open, '{')) return this.parseFields(resolved, '}');
      if (this.isSymbol(open, '<')) return this.parseFields(resolved, '>');
      return this.fail(open, `expected '{' or '<' to open message field "${name}", received '${open.text}'`);
    }
    if (resolved instanceof protobuf.Enum) return this.parseEnum(resolved, name);
    switch (field.type) {
      case 'string':
        return new TextDecoder().decode(this.parseStringBytes(name));
      case 'bytes':
        return this.parseStringBytes(name);
      case 'bool':
        return this.parseBool(name);
      case 'float':
        return Math.fround(this.parseFloat(name));
      case 'double':
        return this.parseFloat(name);
      default:
        return this.parseInteger(field.type, name);
    }
  }

  private parseStringBytes(name: string): Uint8Array {
    const first = this.next();
    if (first.kind !== 'string')
      this.fail(first, `expected a quoted string for field "${name}", received '${first.text}'`);
    let latin1 = first.text;
    // Adjacent string literals are concatenated.
    while (this.peek().kind === 'string') latin1 += this.next().text;
    return Uint8Array.from(latin1, (c) => c.charCodeAt(0));
  }

  private parseEnum(type: protobuf.Enum, name: string): number {
    const negative = this.takeSymbol('-');
    const token = this.next();
    const known = Object.keys(type.values).join(', ');
    if (token.kind === 'identifier' && !negative) {
      const value = type.values[token.text];
      if (value === undefined) {
        this.fail(
          token,
          `unknown value "${token.text}" for enum field "${name}" (${type.name}); known: ${known}`,
        );
      }
      return value;
    }
    if (token.kind === 'number') {
      const value = Number(this.integerOf(token, name)) * (negative ? -1 : 1);
      if (!Object.values(type.values).includes(value)) {
        this.fail(token, `unknown number ${value} for enum field "${name}" (${type.name}); known: ${known}`);
      }
      return value;
    }
    return this.fail(
      token,
      `expected an enum value for field "${name}" (${type.name}), received '${token.text}'`,
    );
  }

  private parseBool(name: string): boolean {
    const token = this.next();
    if (token.kind === 'identifier' && token.text in BOOL_WORDS) return BOOL_WORDS[token.text]!;
    if (token.kind === 'number' && (token.text === '0' || token.text === '1')) return token.text === '1';
    return this.fail(token, `expected true or false for field "${name}", received '${token.text}'`);
  }

  private parseFloat(name: string): number {
    const negative = this.takeSymbol('-');
    const token = this.next();
    const sign = negative ? -1 : 1;
    if (token.kind === 'identifier') {
      const word = token.text.toLowerCase();
      if (word === 'inf' || word === 'infinity') return sign * Number.POSITIVE_INFINITY;
      if (word === 'nan') return Number.NaN;
    }
    if (token.kind !== 'number') {
      this.fail(token, `expected a number for field "${name}", received '${token.text}'`);
    }
    const text = token.text;
    if (/^0[xX]/.test(text) || /^0[0-7]+$/.test(text)) return sign * Number(this.integerOf(token, name));
    return sign * Number(text.replace(/[fF]$/, ''));
  }

  private parseInteger(type: string, name: string): number {
    const negative = this.takeSymbol('-');
    const token = this.next();
    if (token.kind !== 'number') {
      this.fail(
        token,
        `expected an integer for field "${name}", received '${negative ? '-' : ''}${token.text}'`,
      );
    }
    const value = this.integerOf(token, name) * (negative ? -1n : 1n);
    const [min, max] = INT_RANGES[type] ?? [-(2n ** 63n), 2n ** 63n - 1n];
    if (value < min || value > max) {
      const why = value < 0n && min === 0n ? `a negative value for unsigned field` : 'out of range for field';
      this.fail(token, `${value} is ${why} "${name}" (${type}: ${min}..${max})`);
    }
    return Number(value);
  }

  /** An integer token: decimal, 0x hex or leading-0 octal. */
  private integerOf(token: Token, name: string): bigint {
    const text = token.text;
    if (/^0[xX][0-9a-fA-F]+$/.test(text)) return BigInt(text);
    if (/^0[0-7]+$/.test(text)) return BigInt(`0o${text.slice(1)}`);
    if (/^[0-9]+$/.test(text)) return BigInt(text);
    return this.fail(token, `expected an integer for field "${name}", received '${text}'`);
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    const token = this.tokens[this.pos]!;
    if (token.kind !== 'end') this.pos++;
    return token;
  }

  private isSymbol(token: Token, symbol: string): boolean {
    return token.kind === 'symbol' && token.text === symbol;
  }

  private takeSymbol(symbol: string): boolean {
    if (!this.isSymbol(this.peek(), symbol)) return false;
    this.pos++;
    return true;
  }

  private expectSymbol(symbol: string, name: string): void {
    const token = this.next();
    if (!this.isSymbol(token, symbol))
      this.fail(token, `expected '${symbol}' in field "${name}", received '${token.text}'`);
  }

  private fail(token: Token, message: string): never {
    const received =
      token.kind === 'end' ? message.replace(/received ''/, 'received the end of the file') : message;
    throw new BadInputError(received, `${this.fileName}:${token.line}:${token.column}`);
  }
}
