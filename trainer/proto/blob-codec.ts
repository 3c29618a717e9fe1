// BlobProto and BlobShape read and written straight to typed arrays, on protobufjs's Reader and Writer.
//
// Why not protobufjs's generated code for these two: it decodes a packed float field one number at a time
// into a JS array and encodes it as one writer operation per float. CaffeNet has 61 million floats, which
// would cost gigabytes of writer operations; here a packed field is one copy of its bytes. The other
// messages keep protobufjs's own code, which calls these through the Type objects (see root.ts).
import protobuf from 'protobufjs';

import type { BlobProto, BlobShape } from './messages.js';

const { Reader, Writer } = protobuf;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function encodeBlobShapeTo(shape: BlobShape, writer: protobuf.Writer): protobuf.Writer {
  const dims = shape.dim ?? [];
  if (dims.length > 0) {
    writer.uint32((1 << 3) | WIRE_LENGTH).fork();
    for (const d of dims) writer.int64(d);
    writer.ldelim();
  }
  return writer;
}

export function decodeBlobShapeFrom(source: protobuf.Reader | Uint8Array, length?: number): BlobShape {
  const reader = source instanceof Reader ? source : Reader.create(source);
  const end = length === undefined ? reader.len : reader.pos + length;
  const dim: number[] = [];
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === WIRE_LENGTH) {
      const stop = reader.uint32() + reader.pos;
      while (reader.pos < stop) dim.push(readInt64(reader));
    } else if (tag >>> 3 === 1 && (tag & 7) === WIRE_VARINT) {
      dim.push(readInt64(reader));
    } else {
      reader.skipType(tag & 7);
    }
  }
  return { dim };
}

export function encodeBlobProtoTo(blob: BlobProto, writer: protobuf.Writer): protobuf.Writer {
  // Known fields in number order, as Caffe's C++ serializer writes them.
  if (blob.num !== undefined) writer.uint32(1 << 3).int32(blob.num);
  if (blob.channels !== undefined) writer.uint32(2 << 3).int32(blob.channels);
  if (blob.height !== undefined) writer.uint32(3 << 3).int32(blob.height);
  if (blob.width !== undefined) writer.uint32(4 << 3).int32(blob.width);
  writePacked(writer, 5, blob.data, Float32Array);
  writePacked(writer, 6, blob.diff, Float32Array);
  if (blob.shape !== undefined) {
    writer.uint32((7 << 3) | WIRE_LENGTH).fork();
    encodeBlobShapeTo(blob.shape, writer);
    writer.ldelim();
  }
  writePacked(writer, 8, blob.doubleData, Float64Array);
  writePacked(writer, 9, blob.doubleDiff, Float64Array);
  return writer;
}

export function decodeBlobProtoFrom(source: protobuf.Reader | Uint8Array, length?: number): BlobProto {
  const reader = source instanceof Reader ? source : Reader.create(source);
  const end = length === undefined ? reader.len : reader.pos + length;
  const blob: BlobProto = { data: new Float32Array(0) };
  const singles: Record<number, Float32Array[]> = {};
  const doubles: Record<number, Float64Array[]> = {};
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_VARINT) blob.num = reader.int32();
    else if (field === 2 && wire === WIRE_VARINT) blob.channels = reader.int32();
    else if (field === 3 && wire === WIRE_VARINT) blob.height = reader.int32();
    else if (field === 4 && wire === WIRE_VARINT) blob.width = reader.int32();
    else if (field === 7 && wire === WIRE_LENGTH) blob.shape = decodeBlobShapeFrom(reader, reader.uint32());
    else if ((field === 5 || field === 6) && (wire === WIRE_LENGTH || wire === WIRE_FIXED32)) {
      singles[field] = singles[field] ?? [];
      singles[field].push(
        wire === WIRE_LENGTH ? readPacked(reader, Float32Array) : Float32Array.of(reader.float()),
      );
    } else if ((field === 8 || field === 9) && (wire === WIRE_LENGTH || wire === WIRE_FIXED64)) {
      doubles[field] = doubles[field] ?? [];
      doubles[field].push(
        wire === WIRE_LENGTH ? readPacked(reader, Float64Array) : Float64Array.of(reader.double()),
      );
    } else reader.skipType(wire);
  }
  if (singles[5]) blob.data = join(singles[5], Float32Array);
  if (singles[6]) blob.diff = join(singles[6], Float32Array);
  if (doubles[8]) blob.doubleData = join(doubles[8], Float64Array);
  if (doubles[9]) blob.doubleDiff = join(doubles[9], Float64Array);
  return blob;
}

/** Encodes one BlobProto to bytes. */
export function encodeBlobProtoBytes(blob: BlobProto): Uint8Array {
  return encodeBlobProtoTo(blob, Writer.create()).finish();
}

type FloatArrayClass = Float32ArrayConstructor | Float64ArrayConstructor;

function writePacked(
  writer: protobuf.Writer,
  field: number,
  values: ArrayLike<number> | undefined,
  kind: FloatArrayClass,
): void {
  if (values === undefined || values.length === 0) return;
  const typed = values instanceof kind ? values : kind.from(values);
  let bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  if (!littleEndian) bytes = toLittleEndian(typed);
  writer.uint32((field << 3) | WIRE_LENGTH).bytes(bytes);
}

function readPacked<T extends FloatArrayClass>(reader: protobuf.Reader, kind: T): InstanceType<T> {
  const length = reader.uint32();
  const start = reader.pos;
  if (start + length > reader.len)
    throw new RangeError(`index out of range: ${start} + ${length} > ${reader.len}`);
  if (length % kind.BYTES_PER_ELEMENT !== 0) {
    throw new RangeError(`packed field of ${length} bytes is not a whole number of values`);
  }
  const out = new kind(length / kind.BYTES_PER_ELEMENT) as InstanceType<T>;
  const bytes = reader.buf.subarray(start, start + length);
  if (littleEndian) new Uint8Array(out.buffer).set(bytes);
  else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) {
      out[i] = kind === Float32Array ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
    }
  }
  reader.pos = start + length;
  return out;
}

function join<T extends Float32Array | Float64Array>(parts: T[], kind: new (n: number) => T): T {
  if (parts.length === 1) return parts[0]!;
  const out = new kind(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function toLittleEndian(values: Float32Array | Float64Array): Uint8Array {
  const size = values.BYTES_PER_ELEMENT;
  const view = new DataView(new ArrayBuffer(values.length * size));
  for (let i = 0; i < values.length; i++) {
    if (size === 4) view.setFloat32(i * 4, values[i]!, true);
    else view.setFloat64(i * 8, values[i]!, true);
  }
  return new Uint8Array(view.buffer);
}

/** protobufjs returns int64 as a Long object when the `long` package is present, else as a number. */
function readInt64(reader: protobuf.Reader): number {
  const value = reader.int64() as unknown as number | { toNumber(): number };
  return typeof value === 'number' ? value : value.toNumber();
}
