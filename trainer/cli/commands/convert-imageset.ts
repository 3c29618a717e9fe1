// `caffe convert_imageset [FLAGS] ROOTFOLDER/ LISTFILE DB_NAME`, with Caffe's flags.

import { ExitCode, UsageError } from '../../contract/errors.js';
import { convertImageset } from '../../data/convert-imageset.js';
import { registerCommand } from '../command.js';
import { numberFlag, parseFlags } from '../flags.js';

const usage =
  'caffe convert_imageset [--gray] [--shuffle] [--backend=lmdb] [--resize_width=0] [--resize_height=0] ' +
  '[--check_size] [--encoded] [--encode_type=jpg|png] [--seed=0] ROOTFOLDER/ LISTFILE DB_NAME';

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      gray: { type: 'boolean' },
      shuffle: { type: 'boolean' },
      backend: { type: 'string' },
      resize_width: { type: 'string' },
      resize_height: { type: 'string' },
      check_size: { type: 'boolean' },
      encoded: { type: 'boolean' },
      encode_type: { type: 'string' },
      seed: { type: 'string' },
    },
    usage,
  );
  if (positionals.length !== 3) {
    throw new UsageError(
      `expected ROOTFOLDER/ LISTFILE DB_NAME, received ${positionals.length} arguments\nusage: ${usage}`,
    );
  }
  const backend = values.backend ?? 'lmdb';
  if (backend !== 'lmdb') throw new UsageError(`--backend: only lmdb is supported, received '${backend}'`);
  const encodeType = values.encode_type ?? '';
  if (!['', 'jpg', 'jpeg', 'png'].includes(encodeType.toLowerCase())) {
    throw new UsageError(`--encode_type: jpg or png, received '${encodeType}'`);
  }
  const [root, listFile, db] = positionals as [string, string, string];
  await convertImageset({
    root,
    listFile,
    db,
    gray: values.gray ?? false,
    shuffle: values.shuffle ?? false,
    resizeWidth: numberFlag('resize_width', values.resize_width, 0),
    resizeHeight: numberFlag('resize_height', values.resize_height, 0),
    checkSize: values.check_size ?? false,
    encoded: values.encoded ?? false,
    encodeType,
    seed: numberFlag('seed', values.seed, 0),
  });
  return ExitCode.Ok;
}

registerCommand({
  name: 'convert_imageset',
  summary: 'convert a list file of images into an LMDB of Datum records',
  usage,
  run,
});
