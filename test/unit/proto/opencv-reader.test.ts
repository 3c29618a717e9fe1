// An independent reader accepts our files: OpenCV's Caffe importer (cv2.dnn.readNetFromCaffe, Debian's
// python3-opencv) loads a deploy prototxt we print and a .caffemodel we write with random weights; every
// parameter blob comes back with the shape and the exact values we wrote, and the net runs forward.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { buildNetSpec, paramBlobs } from '../../../trainer/net/spec/index.js';
import {
  encodeNetParameter,
  Phase,
  parseNetPrototxt,
  printNetPrototxt,
} from '../../../trainer/proto/index.js';
import { randomCaffemodel } from './random-weights.js';
import { readModel } from './support.js';

const PYTHON = '/usr/bin/python3';
const READER = `
import base64, json, sys
import cv2, numpy as np
net = cv2.dnn.readNetFromCaffe(sys.argv[1], sys.argv[2])
blobs = {}
for name in json.loads(sys.argv[3]):
    layer_id = net.getLayerId(name)
    count = len(net.getLayer(layer_id).blobs)
    blobs[name] = []
    for i in range(count):
        blob = np.ascontiguousarray(net.getParam(layer_id, i), dtype='<f4')
        blobs[name].append({'shape': list(blob.shape), 'data': base64.b64encode(blob.tobytes()).decode()})
net.setInput(np.ones((1, 3, 56, 56), dtype=np.float32))
out = net.forward()
print(json.dumps({'blobs': blobs, 'output_shape': list(out.shape), 'output_sum': float(out.sum())}))
`;

function opencvMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import cv2'], { encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  const reason = `${PYTHON} cannot import cv2 (install Debian's python3-opencv): ${probe.stderr?.trim() || probe.error}`;
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

interface OpenCvBlob {
  shape: number[];
  data: string;
}

describe("OpenCV's Caffe importer reads our deploy prototxt and caffemodel", () => {
  const skip = opencvMissing();
  const dir = mkdtempSync(join(tmpdir(), 'brewery-opencv-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('every blob has our shape and values, and the net runs', { skip }, () => {
    const net = parseNetPrototxt(readModel('mini_caffenet/deploy.prototxt'), 'deploy.prototxt');
    const spec = buildNetSpec(net, { phase: Phase.TEST });
    const model = randomCaffemodel(spec, 42);
    const proto = join(dir, 'deploy.prototxt');
    const weights = join(dir, 'weights.caffemodel');
    writeFileSync(proto, printNetPrototxt(net));
    writeFileSync(weights, encodeNetParameter(model));
    const layers = [...new Set(paramBlobs(spec).map((b) => b.layer))];
    const run = spawnSync(PYTHON, ['-c', READER, proto, weights, JSON.stringify(layers)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.equal(run.status, 0, run.stderr);
    const read = JSON.parse(run.stdout) as {
      blobs: Record<string, OpenCvBlob[]>;
      output_shape: number[];
      output_sum: number;
    };

    for (const layer of model.layer ?? []) {
      const ours = layer.blobs ?? [];
      if (ours.length === 0) continue;
      const theirs = read.blobs[layer.name!] ?? [];
      assert.equal(theirs.length, ours.length, `blob count of ${layer.name}`);
      ours.forEach((blob, i) => {
        const got = theirs[i]!;
        assert.deepEqual(squeeze(got.shape), squeeze(blob.shape!.dim), `shape of ${layer.name} blob ${i}`);
        const values = new Float32Array(new Uint8Array(Buffer.from(got.data, 'base64')).buffer);
        assert.deepEqual(values, blob.data, `values of ${layer.name} blob ${i}`);
      });
    }
    assert.deepEqual(read.output_shape, [1, 10]);
    assert.ok(Math.abs(read.output_sum - 1) < 1e-4, `softmax sums to ${read.output_sum}`);
  });
});

/** OpenCV keeps a bias as (1, N) or (N, 1); compare shapes without their unit axes. */
function squeeze(shape: number[]): number[] {
  return shape.filter((d) => d !== 1);
}
