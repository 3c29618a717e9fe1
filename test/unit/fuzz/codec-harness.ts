// Run by codec.test.ts in a child process of its own, so an abort in the native codec fails that
// test instead of killing the test runner. Damaged JPEGs (cut short, bytes changed in the header or
// anywhere, a frame header that lies about the size) go through decodeInterleaved (native codec, then
// sharp), through the addon's decode with output buffers of any size, and inside encoded Datum
// records: each decodes, or fails as it should (BadInputError naming the image or record; from the
// bare addon, an Error); never an abort, a hang or another exception. Exits 0, or 1 with fast-check's
// report. Takes BREWERY_FUZZ_RUNS and BREWERY_FUZZ_SEED, as the other fuzz tests.
import assert from 'node:assert/strict';

import fc from 'fast-check';
import sharp from 'sharp';

import { decodeInterleaved, encodeJpeg } from '../../../trainer/data/images.js';
import { nativeCodec } from '../../../trainer/data/native-codec.js';
import { encodedDatumBytes, readDatum } from '../../../trainer/data/records.js';
import { applyDamage, damageOf, fuzzParameters, parsesOrNamesThePlace } from './support.js';

const WIDTH = 48;
const HEIGHT = 40;

/** Baseline colour, baseline gray and progressive colour JPEGs of a gradient. */
async function pristineJpegs(): Promise<Buffer[]> {
  const bgr = Uint8Array.from({ length: WIDTH * HEIGHT * 3 }, (_, i) => (i * 5 + (i % 3) * 60) % 256);
  const gray = Uint8Array.from({ length: WIDTH * HEIGHT }, (_, i) => (i * 3) % 256);
  return [
    await encodeJpeg({ pixels: bgr, width: WIDTH, height: HEIGHT, channels: 3 }, 90),
    await encodeJpeg({ pixels: gray, width: WIDTH, height: HEIGHT, channels: 1 }, 90),
    await sharp(Buffer.from(bgr), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
      .jpeg({ progressive: true, quality: 90 })
      .toBuffer(),
  ];
}

/** Where a JPEG's frame header (SOFn) starts, and where its entropy-coded data (after SOS) starts. */
function markers(jpeg: Buffer): { frame: number; scan: number } {
  let frame = -1;
  for (let at = 2; at + 4 <= jpeg.length && jpeg[at] === 0xff; ) {
    const marker = jpeg[at + 1]!;
    if (marker >= 0xc0 && marker <= 0xc2) frame = at;
    const next = at + 2 + jpeg.readUInt16BE(at + 2);
    if (marker === 0xda) return { frame, scan: next };
    at = next;
  }
  throw new Error('no SOS marker in the pristine JPEG');
}

/** A frame header claiming another size: mostly small lies, some large, a few past any limit. */
const liedSize = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 512 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 4096 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);

async function main(): Promise<void> {
  const jpegs = await pristineJpegs();
  const damagedJpeg = fc.integer({ min: 0, max: jpegs.length - 1 }).chain((which) => {
    const jpeg = jpegs[which]!;
    const { frame, scan } = markers(jpeg);
    return fc.oneof(
      damageOf(jpeg.length, [[0, scan]]).map((damage) => applyDamage(jpeg, damage)),
      fc.tuple(liedSize, liedSize).map(([height, width]) => {
        const copy = Buffer.from(jpeg);
        copy.writeUInt16BE(height, frame + 5);
        copy.writeUInt16BE(width, frame + 7);
        return copy;
      }),
    );
  });

  await fc.assert(
    fc.asyncProperty(damagedJpeg, fc.boolean(), fc.boolean(), async (bytes, color, offThread) => {
      await parsesOrNamesThePlace(async () => {
        const image = await decodeInterleaved(bytes, { color, offThread, where: 'img.jpg' });
        assert.equal(image.pixels.length, image.width * image.height * image.channels);
      }, /^img\.jpg$/);
    }),
    fuzzParameters(300),
  );

  if (nativeCodec) {
    const codec = nativeCodec;
    await fc.assert(
      fc.asyncProperty(
        damagedJpeg,
        fc.integer({ min: 0, max: 3 * 600 * 600 }),
        fc.boolean(),
        async (bytes, outSize, gray) => {
          const out = new Uint8Array(outSize);
          for (const decode of [
            async () => codec.decode(bytes, out, gray),
            () => codec.decodeAsync(bytes, out, gray),
          ]) {
            try {
              assert.equal(typeof (await decode()), 'number');
            } catch (error) {
              assert.ok(error instanceof Error && !(error instanceof assert.AssertionError), String(error));
            }
          }
        },
      ),
      fuzzParameters(300),
    );
  }

  const record = encodedDatumBytes(jpegs[0]!, 2);
  await fc.assert(
    fc.asyncProperty(damageOf(record.length, [[0, 400]]), async (damage) => {
      const where = "shard-00000-of-00001/data.mdb record '00000007_n02/x.JPEG'";
      await parsesOrNamesThePlace(async () => {
        const datum = readDatum(applyDamage(record, damage), where);
        if (datum.encoded) await decodeInterleaved(datum.data ?? new Uint8Array(), { where });
      }, /^shard-00000-of-00001\/data\.mdb record '00000007_n02\/x\.JPEG'(:byte \d+)?$/);
    }),
    fuzzParameters(200),
  );
  console.log(`codec fuzz: passed (native codec ${nativeCodec ? 'loaded' : 'not built: sharp only'})`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
