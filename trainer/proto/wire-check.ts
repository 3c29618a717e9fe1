// Checks a binary message against the schema before protobufjs decodes it.
//
// protobufjs trusts the wire type of a known field and reads garbage when it is wrong; Caffe's C++ runtime
// rejects such a file. This walk makes every defect a one-line error naming the byte offset and the field
// path (`layer[3].blobs[0].data`), and it never copies payloads, so it costs little even on a 233 MiB model.
import protobuf from 'protobufjs';

import { BadInputError } from '../contract/errors.js';
import { protoFieldName } from './root.js';

const WIRE_NAMES = ['varint', '64-bit', 'length-delimited', 'start-group', 'end-group', '32-bit'];
const VARINT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool']);
const FIXED32_TYPES = new Set(['float', 'fixed32', 'sfixed32']);
const FIXED64_TYPES = new Set(['double', 'fixed64', 'sfixed64']);

export function checkWire(type: protobuf.Type, bytes: Uint8Array, fileName: string): void {
  new WireWalker(bytes, fileName).message(type, 0, bytes.length, '');
}

class WireWalker {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly fileName: string,
  ) {}

  message(type: protobuf.Type, start: number, end: number, path: string): void {
    const seen = new Map<number, number>();
    let pos = start;
    while (pos < end) {
      const keyAt = pos;
      const [key, afterKey] = this.varint(pos, end, path || type.name);
      pos = afterKey;
      const number = Math.floor(key / 8);
      const wire = key % 8;
      if (number === 0) this.fail(keyAt, `${path || type.name}: field number 0 is not valid`);
      if (wire !== 0 && wire !== 1 && wire !== 2 && wire !== 5) {
        this.fail(
          keyAt,
          `${path || type.name}: wire type ${wire} (${WIRE_NAMES[wire] ?? 'invalid'}) is not used by caffe.proto`,
        );
      }
      const field = type.fieldsById[number];
      if (!field) {
        pos = this.skip(wire, pos, end, keyAt, `${path ? `${path}.` : ''}#${number}`);
        continue;
      }
      const index = seen.get(number) ?? 0;
      seen.set(number, index + 1);
      const name = protoFieldName(type, field);
      const fieldPath = `${path ? `${path}.` : ''}${name}${field.repeated ? `[${index}]` : ''}`;
      const expected = expectedWire(field);
      const packedOk = field.repeated && expected !== 2 && wire === 2;
      if (wire !== expected && !packedOk) {
        this.fail(
          keyAt,
          `${fieldPath}: expected wire type ${expected} (${WIRE_NAMES[expected]}) for a ${field.type} field, ` +
            `received ${wire} (${WIRE_NAMES[wire] ?? 'invalid'})`,
        );
      }
      const valueAt = pos;
      pos = this.skip(wire, pos, end, keyAt, fieldPath);
      if (field.resolvedType instanceof protobuf.Type) {
        const [length, payload] = this.varint(valueAt, end, fieldPath);
        this.message(field.resolvedType, payload, payload + length, fieldPath);
      } else if (packedOk) {
        const [length] = this.varint(valueAt, end, fieldPath);
        const size = expected === 5 ? 4 : expected === 1 ? 8 : 0;
        if (size > 0 && length % size !== 0) {
          this.fail(
            valueAt,
            `${fieldPath}: packed ${field.type} data of ${length} bytes is not a whole number of values`,
          );
        }
      }
    }
    if (pos !== end) this.fail(end, `${path || type.name}: the last field runs past the end of its message`);
  }

  /** Returns the offset just past the value of a field of wire type `wire` at `pos`. */
  private skip(wire: number, pos: number, end: number, keyAt: number, what: string): number {
    switch (wire) {
      case 0:
        return this.varint(pos, end, what)[1];
      case 1:
        return this.within(pos + 8, end, keyAt, what);
      case 2: {
        const [length, payload] = this.varint(pos, end, what);
        return this.within(payload + length, end, keyAt, what);
      }
      case 5:
        return this.within(pos + 4, end, keyAt, what);
      default:
        return this.fail(
          keyAt,
          `${what}: wire type ${wire} (${WIRE_NAMES[wire] ?? 'invalid'}) is not used by caffe.proto`,
        );
    }
  }

  private within(next: number, end: number, keyAt: number, what: string): number {
    if (next > end)
      this.fail(keyAt, `${what}: truncated: the value needs ${next - end} more bytes than its message has`);
    return next;
  }

  private varint(pos: number, end: number, what: string): [number, number] {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos + i >= end) this.fail(pos, `${what}: truncated varint`);
      const byte = this.bytes[pos + i]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) return [value, pos + i + 1];
    }
    return this.fail(pos, `${what}: varint longer than 10 bytes`);
  }

  private fail(offset: number, message: string): never {
    throw new BadInputError(message, `${this.fileName}:byte ${offset}`);
  }
}

function expectedWire(field: protobuf.Field): number {
  if (field.resolvedType instanceof protobuf.Enum) return 0;
  if (field.resolvedType instanceof protobuf.Type) return 2;
  if (VARINT_TYPES.has(field.type)) return 0;
  if (FIXED32_TYPES.has(field.type)) return 5;
  if (FIXED64_TYPES.has(field.type)) return 1;
  return 2; // string, bytes
}
