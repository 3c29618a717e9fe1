// Reading and writing whole files by path or s3:// URI, for the commands: a missing input file is bad
// input. proto/ works on text and bytes only.
import { BadInputError } from './contract/errors.js';
import { storageFor } from './storage/index.js';

export async function readBytes(uri: string): Promise<Uint8Array> {
  try {
    return await storageFor(uri).read(uri);
  } catch (error) {
    if (isMissing(error)) throw new BadInputError('no such file', uri);
    throw error;
  }
}

export async function readText(uri: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(uri));
}

export async function writeBytes(uri: string, bytes: Uint8Array): Promise<void> {
  await storageFor(uri).write(uri, bytes);
}

export async function writeText(uri: string, text: string): Promise<void> {
  await storageFor(uri).write(uri, text);
}

function isMissing(error: unknown): boolean {
  const e = error as { code?: string; name?: string };
  return (
    e?.code === 'ENOENT' ||
    e?.code === 'ENOTDIR' ||
    e?.code === 'EISDIR' ||
    e?.name === 'NoSuchKey' ||
    e?.name === 'NotFound'
  );
}

/**
 * Caffe picks HDF5 by the file name (`.h5`, as Net::CopyTrainedLayersFrom and Solver::Restore do); this
 * build reads and writes only the protobuf forms, so an `.h5` weights or solver-state file is bad input,
 * refused before anything runs rather than misread (see trainer/README.md, "HDF5").
 */
export function refuseHdf5(uri: string, what: string): void {
  if (uri.endsWith('.h5')) {
    throw new BadInputError(
      `${what} in HDF5 are not supported; give the .caffemodel / .solverstate form (snapshot_format: BINARYPROTO)`,
      uri,
    );
  }
}
