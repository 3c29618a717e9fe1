// Caffe's tools against real BVLC Caffe built from source (test/support/caffe-reference.ts), on the
// same inputs: convert_imageset's records (raw, gray, resized, encoded; PNG, CMYK, gray, progressive and
// truncated files),
// compute_image_mean over an LMDB real Caffe wrote, and upgrade_net_proto_text on V1 nets of the
// layer types this trainer does not run. Tolerance: none; the records, means and text must be equal.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { computeImageMean } from '../../../trainer/data/image-mean.js';
import { decodeInterleaved } from '../../../trainer/data/images.js';
import { LmdbReader } from '../../../trainer/data/lmdb-reader.js';
import { nativeCodec } from '../../../trainer/data/native-codec.js';
import { readDatum, readMeanBlob } from '../../../trainer/data/records.js';
import { caffeReference, caffeReferenceMissing } from '../../support/caffe-reference.js';
import { rgbPhoto } from '../../support/images.js';
import { runCaffeOk } from '../data/prep-checks.js';

const skip = caffeReferenceMissing() ?? false;
const work = mkdtempSync(join(tmpdir(), 'brewery-real-caffe-tools-'));
after(() => rmSync(work, { recursive: true, force: true }));

const images = join(work, 'images');
/** List files by what they hold; CMYK only with the native codec (sharp converts it by a profile). */
const lists: Record<string, string> = {};

before(async () => {
  if (skip) return;
  mkdirSync(images);
  const raw = { raw: { width: 41, height: 31, channels: 3 as const } };
  const colour: string[] = [];
  const gray: string[] = [];
  for (let i = 0; i < 3; i++) {
    const rgb = rgbPhoto(41, 31, 30 + i);
    await sharp(rgb, raw)
      .png()
      .toFile(join(images, `c${i}.png`));
    await sharp(rgb, raw)
      .jpeg({ quality: 90 })
      .toFile(join(images, `c${i}.jpg`));
    await sharp(rgb, raw)
      .toColourspace('cmyk')
      .jpeg({ quality: 90 })
      .toFile(join(images, `k${i}.jpg`));
    await sharp(rgb, raw)
      .toColourspace('b-w')
      .png()
      .toFile(join(images, `g${i}.png`));
    colour.push(`c${i}.png ${i}`, `c${i}.jpg ${i}`, ...(nativeCodec ? [`k${i}.jpg ${i}`] : []));
    gray.push(`g${i}.png ${i}`);
  }
  // A progressive JPEG; a baseline one cut in half, which libjpeg decodes with the missing rows gray
  // (Caffe keeps it, and so do we, byte for byte); and one cut inside its headers, which both skip.
  const rgb = rgbPhoto(41, 31, 40);
  await sharp(rgb, raw).jpeg({ quality: 90, progressive: true }).toFile(join(images, 'progressive.jpg'));
  const whole = await sharp(rgb, raw).jpeg({ quality: 90 }).toBuffer();
  writeFileSync(join(images, 'truncated.jpg'), whole.subarray(0, whole.length >> 1));
  writeFileSync(join(images, 'headers-only.jpg'), whole.subarray(0, 100));
  colour.push('progressive.jpg 3', 'truncated.jpg 4', 'headers-only.jpg 5');
  lists.colour = join(work, 'colour.txt');
  lists.gray = join(work, 'gray.txt');
  writeFileSync(lists.colour, `${colour.join('\n')}\n`);
  writeFileSync(lists.gray, `${gray.join('\n')}\n`);
});

/** Every record of an LMDB: key and value. */
async function records(path: string): Promise<{ key: string; value: Buffer }[]> {
  const reader = await LmdbReader.open(path);
  const out: { key: string; value: Buffer }[] = [];
  for await (const { key, value } of reader.records()) out.push({ key: key.toString(), value });
  await reader.close();
  return out;
}

describe('convert_imageset against real Caffe', { skip }, () => {
  const cases: Record<string, { list: string; flags: string[]; compare: 'bytes' | 'pixels' }> = {
    'colour, raw': { list: 'colour', flags: [], compare: 'bytes' },
    'gray, raw (--gray)': { list: 'colour', flags: ['--gray'], compare: 'bytes' },
    'resized, raw': { list: 'colour', flags: ['--resize_width=20', '--resize_height=15'], compare: 'bytes' },
    'encoded, kept as the files are': { list: 'colour', flags: ['--encoded'], compare: 'bytes' },
    'encoded as PNG, resized': {
      list: 'colour',
      flags: ['--encoded', '--encode_type=png', '--resize_width=20', '--resize_height=15'],
      compare: 'pixels',
    },
    'gray PNG files, encoded': { list: 'gray', flags: ['--encoded'], compare: 'bytes' },
  };
  for (const [name, { list, flags, compare }] of Object.entries(cases)) {
    it(`${name}: the same records as Caffe's (${compare})`, async () => {
      const slug = name.replace(/\W+/g, '_');
      const theirs = join(work, `caffe_${slug}`);
      const ours = join(work, `ours_${slug}`);
      caffeReference()!.run('convert_imageset', [...flags, `${images}/`, lists[list]!, theirs]);
      await runCaffeOk(['convert_imageset', ...flags, `${images}/`, lists[list]!, ours]);
      const [a, b] = [await records(theirs), await records(ours)];
      if (list === 'colour') {
        assert.ok(
          a.some((r) => r.key.endsWith('truncated.jpg')),
          'Caffe kept the file cut in half',
        );
        assert.ok(
          !a.some((r) => r.key.endsWith('headers-only.jpg')),
          'Caffe skipped the file cut in its headers',
        );
      }
      if (list === 'colour')
        assert.deepEqual(
          b.map((r) => r.key),
          a.map((r) => r.key),
        );
      for (let i = 0; i < a.length; i++) {
        if (compare === 'bytes') {
          assert.ok(b[i]!.value.equals(a[i]!.value), `record ${a[i]!.key}: Datum bytes differ`);
          continue;
        }
        const [da, db] = [readDatum(a[i]!.value), readDatum(b[i]!.value)];
        assert.equal(db.label, da.label);
        const [pa, pb] = [await decodeInterleaved(da.data!), await decodeInterleaved(db.data!)];
        assert.deepEqual([pb.height, pb.width, pb.channels], [pa.height, pa.width, pa.channels]);
        assert.ok(
          Buffer.from(pb.pixels).equals(Buffer.from(pa.pixels)),
          `record ${a[i]!.key}: pixels differ`,
        );
      }
    });
  }
});

describe('compute_image_mean against real Caffe', { skip }, () => {
  it('over an LMDB of gray PNG records that real Caffe wrote: one channel, the same values', async () => {
    const db = join(work, 'caffe_gray_png');
    caffeReference()!.run('convert_imageset', ['--encoded', `${images}/`, lists.gray!, db]);
    const theirs = join(work, 'caffe_gray_mean.binaryproto');
    caffeReference()!.run('compute_image_mean', [db, theirs]);
    const mean = await computeImageMean(db, undefined, () => {});
    const expected = readMeanBlob(readFileSync(theirs), theirs);
    assert.deepEqual(
      [mean.channels, mean.height, mean.width],
      [expected.channels, expected.height, expected.width],
    );
    assert.equal(mean.channels, 1);
    assert.deepEqual([...mean.data], [...expected.data]);
  });
});

describe('upgrade_net_proto_text against real Caffe', { skip }, () => {
  it('V1 nets of WindowData, HDF5Data, InfogainLoss and HDF5Output layers upgrade to the same text', async () => {
    const v1 = join(work, 'v1.prototxt');
    writeFileSync(
      v1,
      `name: "v1"
layers { name: "w" type: WINDOW_DATA top: "data" top: "label"
  window_data_param { source: "windows.txt" batch_size: 8 fg_threshold: 0.6 crop_size: 200 mirror: true scale: 0.5 context_pad: 16 } }
layers { name: "h" type: HDF5_DATA top: "x" hdf5_data_param { source: "list.txt" batch_size: 10 shuffle: true } }
layers { name: "ip" type: INNER_PRODUCT bottom: "data" top: "ip" blobs_lr: 1 blobs_lr: 2 weight_decay: 1 weight_decay: 0
  inner_product_param { num_output: 10 } }
layers { name: "s" type: SLICE bottom: "ip" top: "a" top: "b" slice_param { slice_point: 4 } }
layers { name: "l" type: INFOGAIN_LOSS bottom: "ip" bottom: "label" top: "loss" infogain_loss_param { source: "H.binaryproto" } }
layers { name: "o" type: HDF5_OUTPUT bottom: "a" bottom: "b" hdf5_output_param { file_name: "out.h5" } }
`,
    );
    const theirs = join(work, 'v1.caffe.prototxt');
    const ours = join(work, 'v1.ours.prototxt');
    caffeReference()!.run('upgrade_net_proto_text', [v1, theirs]);
    await runCaffeOk(['upgrade_net_proto_text', v1, ours]);
    assert.equal(readFileSync(ours, 'utf8'), readFileSync(theirs, 'utf8'));
  });
});

/**
 * Every net prototxt in real Caffe's own upgrade tests (src/caffe/test/test_upgrade_proto.cpp, read from
 * the reference build's source tree): V0 nets with padding layers and every V0 parameter, V0 and V1
 * CaffeNet, and the current forms they upgrade to. The C++ string literals of each `const string& x =`
 * are joined as the compiler would.
 */
function caffeUpgradeTestNets(): { name: string; text: string }[] {
  const source = readFileSync(
    join(caffeReference()!.env.CAFFE_REF_ROOT!, 'src', 'src', 'caffe', 'test', 'test_upgrade_proto.cpp'),
    'utf8',
  );
  const nets: { name: string; text: string }[] = [];
  for (const test of source.split(/^TEST_F\(/m).slice(1)) {
    const testName = test.slice(0, test.indexOf(')')).replace(', ', '.');
    for (const match of test.matchAll(/const string& (\w+) =((?:\s*"(?:[^"\\]|\\.)*")+)\s*;/g)) {
      const text = [...match[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)]
        .map((literal) => literal[1]!.replace(/\\(.)/g, '$1'))
        .join('');
      if (/\blayers? \{/.test(text)) nets.push({ name: `${testName} ${match[1]}`, text });
    }
  }
  return nets;
}

describe("upgrade_net_proto_text on real Caffe's own upgrade test nets", { skip }, () => {
  it('V0, V1 and current nets upgrade to the same text as real Caffe writes', async () => {
    const nets = caffeUpgradeTestNets();
    const v0 = nets.filter((net) => /layers \{[^}]*\blayer \{/.test(net.text));
    assert.ok(v0.length >= 6, `expected Caffe's V0 test nets, found ${v0.length} of ${nets.length}`);
    for (const [i, net] of nets.entries()) {
      const input = join(work, `upgrade-${i}.prototxt`);
      writeFileSync(input, net.text);
      const theirs = join(work, `upgrade-${i}.caffe.prototxt`);
      const ours = join(work, `upgrade-${i}.ours.prototxt`);
      caffeReference()!.run('upgrade_net_proto_text', [input, theirs]);
      await runCaffeOk(['upgrade_net_proto_text', input, ours]);
      assert.equal(readFileSync(ours, 'utf8'), readFileSync(theirs, 'utf8'), net.name);
    }
  });
});
