// The protobufjs Root for our caffe.proto, loaded once at run time, and the field names the text format uses.
import protobuf from 'protobufjs';

import {
  decodeBlobProtoFrom,
  decodeBlobShapeFrom,
  encodeBlobProtoTo,
  encodeBlobShapeTo,
} from './blob-codec.js';
import { CAFFE_PROTO } from './caffe-proto.js';

/** A message name of our caffe.proto without the package: 'NetParameter', 'ConvolutionParameter', ... */
export type MessageName = string;

/** Loaded with protobufjs's default camelCase names: those are our TypeScript field names. */
export const caffeRoot: protobuf.Root = protobuf.parse(CAFFE_PROTO).root;
caffeRoot.resolveAll();
installTypedArrayCodecs();

/** The same schema with the names as written in caffe.proto; the text format uses these. */
const snakeRoot: protobuf.Root = protobuf.parse(CAFFE_PROTO, { keepCase: true }).root;
snakeRoot.resolveAll();

export function messageType(name: string): protobuf.Type {
  return caffeRoot.lookupType(`caffe.${name}`);
}

/** The caffe.proto name of a field (`num_output` for `numOutput`), found through its field number. */
export function protoFieldName(type: protobuf.Type, field: protobuf.Field): string {
  const snakeType = snakeRoot.lookupType(type.fullName);
  return snakeType.fieldsById[field.id]?.name ?? field.name;
}

const protoNameIndex = new Map<protobuf.Type, Map<string, protobuf.Field>>();

/** The field a text file names (`num_output`), or undefined when the message has no such field. */
export function fieldByProtoName(type: protobuf.Type, name: string): protobuf.Field | undefined {
  let index = protoNameIndex.get(type);
  if (!index) {
    index = new Map(type.fieldsArray.map((f) => [protoFieldName(type, f), f]));
    protoNameIndex.set(type, index);
  }
  return index.get(name);
}

/** Fields sorted by number: the order Caffe's C++ serializer and text printer use. */
export function fieldsInNumberOrder(type: protobuf.Type): protobuf.Field[] {
  return [...type.fieldsArray].sort((a, b) => a.id - b.id);
}

/**
 * Puts our typed-array codecs (blob-codec.ts) in place of protobufjs's generated code for BlobProto and
 * BlobShape. Messages that contain them call `types[i].encode/decode/toObject`, so the parents pick them up.
 * setup() runs first so that protobufjs's lazy set-up never overwrites them later.
 */
function installTypedArrayCodecs(): void {
  const codecs = [
    { type: messageType('BlobProto'), encode: encodeBlobProtoTo, decode: decodeBlobProtoFrom },
    { type: messageType('BlobShape'), encode: encodeBlobShapeTo, decode: decodeBlobShapeFrom },
  ];
  for (const { type, encode, decode } of codecs) {
    type.setup();
    const patched = type as unknown as Record<string, unknown>;
    patched.encode = (message: never, writer?: protobuf.Writer) =>
      encode(message, writer ?? protobuf.Writer.create());
    patched.decode = (source: protobuf.Reader | Uint8Array, length?: number) => decode(source, length);
    // Our decoders already return plain objects with numbers and typed arrays.
    patched.toObject = (message: unknown) => message;
    patched.fromObject = (object: unknown) => object;
  }
}
