// The benchmarks' training data: an LMDB of 256x256 JPEG records (encoded Datums, as convert_imageset
// --encoded writes them) made from a generated ImageNet-like tree, and a flat mean file beside it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { resizeToJpeg } from '../../trainer/data/images.js';
import { LmdbWriter } from '../../trainer/data/lmdb-writer.js';
import { encodedDatumBytes, meanBlobBytes } from '../../trainer/data/records.js';
import { LocalStorage } from '../../trainer/storage/index.js';
import { generateSampleImagenet } from '../sample-imagenet.js';

/** Writes `images` records (4 classes) into dir/lmdb, and dir/mean.binaryproto (118 everywhere). */
export async function writeJpegLmdb(
  dir: string,
  images: number,
): Promise<{ lmdb: string; meanFile: string }> {
  const tree = await generateSampleImagenet({
    out: join(dir, 'tree'),
    classes: 4,
    perClass: Math.ceil(images / 4),
    valPerClass: 0,
    seed: 2,
    width: 500,
    height: 375,
    brokenPerKind: 0,
  });
  const lmdb = join(dir, 'lmdb');
  const writer = new LmdbWriter(lmdb);
  const storage = new LocalStorage();
  for (const [i, file] of (await storage.list(tree.train)).entries()) {
    const jpeg = await resizeToJpeg(await storage.read(file.uri), 256, 'squash', 95);
    writer.put(Buffer.from(`${String(i).padStart(8, '0')}_x`), encodedDatumBytes(jpeg, i % 4));
  }
  writer.finish();
  const meanFile = join(dir, 'mean.binaryproto');
  writeFileSync(meanFile, meanBlobBytes(new Float32Array(3 * 256 * 256).fill(118), 3, 256, 256));
  return { lmdb, meanFile };
}
