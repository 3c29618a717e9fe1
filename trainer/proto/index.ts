// Caffe's files, read and written as Caffe does. The one import for other rooms.
//
// Everything here takes text or bytes and returns messages (or the reverse); reading files is the
// caller's job (see trainer/files.ts), so the same code serves local paths and s3:// URIs.
import { decodeNetParameter as decodeNetAsStored } from './binary.js';
import type { NetParameter, SolverParameter } from './messages.js';
import { parseTextMessage } from './text-parse.js';
import { printTextMessage } from './text-print.js';
import { upgradeNetParameter, upgradeSolverParameter } from './upgrade.js';

export {
  decodeBlobProto,
  decodeBlobProtoVector,
  decodeDatum,
  decodeMessage,
  decodeSolverParameter,
  decodeSolverState,
  encodeBlobProto,
  encodeBlobProtoVector,
  encodeDatum,
  encodeMessage,
  encodeNetParameter,
  encodeSolverParameter,
  encodeSolverState,
} from './binary.js';
export * from './messages.js';
export { type Upgraded, upgradeNetParameter, upgradeSolverParameter, V1_LAYER_TYPES } from './upgrade.js';

export interface ReadOptions {
  /** Bring legacy forms to the current one, as Caffe does on every read (default true). */
  upgrade?: boolean;
}

/** A net prototxt → NetParameter (upgraded from legacy forms unless `upgrade: false`). */
export function parseNetPrototxt(text: string, fileName = '<net>', options: ReadOptions = {}): NetParameter {
  const net = parseTextMessage<NetParameter>('NetParameter', text, fileName);
  return options.upgrade === false ? net : upgradeNetParameter(net, fileName).message;
}

/** A solver prototxt → SolverParameter (solver_type upgraded to type unless `upgrade: false`). */
export function parseSolverPrototxt(
  text: string,
  fileName = '<solver>',
  options: ReadOptions = {},
): SolverParameter {
  const solver = parseTextMessage<SolverParameter>('SolverParameter', text, fileName);
  return options.upgrade === false ? solver : upgradeSolverParameter(solver, fileName).message;
}

export function printNetPrototxt(net: NetParameter): string {
  return printTextMessage('NetParameter', net);
}

export function printSolverPrototxt(solver: SolverParameter): string {
  return printTextMessage('SolverParameter', solver);
}

/** A .caffemodel → NetParameter (a 2014 V1 model comes back in the current form unless `upgrade: false`). */
export function decodeNetParameter(bytes: Uint8Array, fileName = '<caffemodel>', options: ReadOptions = {}) {
  const net = decodeNetAsStored(bytes, fileName);
  return options.upgrade === false ? net : upgradeNetParameter(net, fileName).message;
}

export { parseTextMessage, printTextMessage };
