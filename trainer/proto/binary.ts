// Caffe's binary files: .caffemodel (NetParameter), .solverstate (SolverState), .binaryproto (BlobProto),
// and Datum records. protobufjs does the encoding; wire-check.ts vets bytes first.
//
// There is no read limit: protobufjs reads any Uint8Array, and Caffe itself allows up to 2 GiB.
import type protobuf from 'protobufjs';

import { BadInputError } from '../contract/errors.js';
import { decodeBlobProtoFrom, encodeBlobProtoBytes } from './blob-codec.js';
import type {
  BlobProto,
  BlobProtoVector,
  Datum,
  NetParameter,
  SolverParameter,
  SolverState,
} from './messages.js';
import { type MessageName, messageType } from './root.js';
import { checkWire } from './wire-check.js';

const TO_PLAIN: protobuf.IConversionOptions = { longs: Number, defaults: false, arrays: false };

/** Encodes any message of our schema; fields are written in number order, as Caffe does. */
export function encodeMessage(name: MessageName, message: object): Uint8Array {
  return messageType(name).encode(message).finish();
}

/** Decodes bytes after checking them; only the fields present in the bytes are set in the result. */
export function decodeMessage<T>(name: MessageName, bytes: Uint8Array, fileName = `<${name}>`): T {
  const type = messageType(name);
  checkWire(type, bytes, fileName);
  try {
    return type.toObject(type.decode(bytes), TO_PLAIN) as T;
  } catch (error) {
    throw new BadInputError(`cannot decode ${name}: ${(error as Error).message}`, fileName);
  }
}

export function encodeNetParameter(net: NetParameter): Uint8Array {
  return encodeMessage('NetParameter', net);
}

/** Reads a .caffemodel as stored; `upgradeNetParameter` turns a legacy (V1) one into the current form. */
export function decodeNetParameter(bytes: Uint8Array, fileName?: string): NetParameter {
  return decodeMessage('NetParameter', bytes, fileName);
}

export function encodeSolverState(state: SolverState): Uint8Array {
  return encodeMessage('SolverState', state);
}

export function decodeSolverState(bytes: Uint8Array, fileName?: string): SolverState {
  return decodeMessage('SolverState', bytes, fileName);
}

export function encodeSolverParameter(solver: SolverParameter): Uint8Array {
  return encodeMessage('SolverParameter', solver);
}

export function decodeSolverParameter(bytes: Uint8Array, fileName?: string): SolverParameter {
  return decodeMessage('SolverParameter', bytes, fileName);
}

export function encodeBlobProto(blob: BlobProto): Uint8Array {
  return encodeBlobProtoBytes(blob);
}

/** Reads a BlobProto (a mean.binaryproto, say); `data` is always a Float32Array. */
export function decodeBlobProto(bytes: Uint8Array, fileName = '<BlobProto>'): BlobProto {
  checkWire(messageType('BlobProto'), bytes, fileName);
  return decodeBlobProtoFrom(bytes);
}

export function encodeBlobProtoVector(vector: BlobProtoVector): Uint8Array {
  return encodeMessage('BlobProtoVector', vector);
}

export function decodeBlobProtoVector(bytes: Uint8Array, fileName?: string): BlobProtoVector {
  return decodeMessage('BlobProtoVector', bytes, fileName);
}

/**
 * Writes a Datum the way Caffe's tools do: label always; channels/height/width unless the datum is
 * encoded and they are 0 (convert_imageset leaves them unset for encoded images); `encoded` only when
 * given (convert_imageset sets it to false explicitly for raw images).
 */
export function encodeDatum(datum: Datum): Uint8Array {
  const message: Record<string, unknown> = {};
  for (const key of ['channels', 'height', 'width'] as const) {
    if (!(datum.encoded && datum[key] === 0)) message[key] = datum[key];
  }
  if (datum.data !== undefined) message.data = datum.data;
  message.label = datum.label;
  if (datum.floatData && datum.floatData.length > 0) message.floatData = datum.floatData;
  if (datum.encoded !== undefined) message.encoded = datum.encoded;
  return encodeMessage('Datum', message);
}

/** Reads a Datum; absent channels/height/width/label read as 0, as in Caffe. */
export function decodeDatum(bytes: Uint8Array, fileName?: string): Datum {
  const raw = decodeMessage<Partial<Datum>>('Datum', bytes, fileName);
  const datum: Datum = {
    channels: raw.channels ?? 0,
    height: raw.height ?? 0,
    width: raw.width ?? 0,
    label: raw.label ?? 0,
  };
  // A copy: the bytes may live in a buffer the caller reuses (an LMDB read, say).
  if (raw.data !== undefined) datum.data = new Uint8Array(raw.data);
  if (raw.floatData !== undefined) datum.floatData = raw.floatData;
  if (raw.encoded !== undefined) datum.encoded = raw.encoded;
  return datum;
}
