// A file or folder that is not there is bad input: exit 65 and one line naming it, never a stack trace
// (trainer/README.md, "Exit codes"). One case per input each command reads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { CAFFE_MAIN as CAFFE, TINY_NET } from '../../support/tiny-net.js';

const dir = mkdtempSync(join(tmpdir(), 'brewery-missing-'));
const at = (name: string) => join(dir, name);

function dataNet(source: string): string {
  return `name: "d"
layer { name: "data" type: "Data" top: "data" top: "label"
  data_param { source: "${source}" batch_size: 4 backend: LMDB } transform_param { crop_size: 6 } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 3 } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }`;
}
const imageNet = (list: string) => `name: "i"
layer { name: "data" type: "ImageData" top: "data" top: "label"
  image_data_param { source: "${list}" root_folder: "${dir}/" batch_size: 4 new_height: 8 new_width: 8 } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 3 } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }`;
const solverFor = (net: string) => `net: "${net}"\nbase_lr: 0.01\nmax_iter: 1\nlr_policy: "fixed"\n`;

function write(name: string, text: string): string {
  writeFileSync(at(name), text);
  return at(name);
}
mkdirSync(at('empty-folder'));
write('a-file', 'not an LMDB');
write('one-image.txt', 'no-such.png 1\n');
const cases: { name: string; argv: string[]; names: string; says: RegExp }[] = [];
for (const [source, says] of [
  [at('no-such-lmdb'), /expected an LMDB folder/],
  [at('empty-folder'), /expected an LMDB folder/],
  [at('a-file'), /expected an LMDB folder/],
] as const) {
  const net = write(`net-${cases.length}.prototxt`, dataNet(source));
  const solver = write(`solver-${cases.length}.prototxt`, solverFor(net));
  cases.push({
    name: `caffe train, Data source ${source.slice(dir.length + 1)}`,
    argv: ['train', `-solver=${solver}`],
    names: source,
    says,
  });
}
const listNet = write('list-net.prototxt', imageNet(at('no-such-list.txt')));
cases.push({
  name: 'caffe train, ImageData list file missing',
  argv: ['train', '-solver', write('s-list.prototxt', solverFor(listNet))],
  names: at('no-such-list.txt'),
  says: /no such file/,
});
const imageMissing = write('image-net.prototxt', imageNet(at('one-image.txt')));
cases.push({
  name: 'caffe train, an image of an ImageData list missing',
  argv: ['train', '-solver', write('s-image.prototxt', solverFor(imageMissing))],
  names: at('no-such.png'),
  says: /no such file/,
});
const tiny = write('tiny.prototxt', TINY_NET);
const tinySolver = write('tiny-solver.prototxt', solverFor(tiny));
cases.push(
  {
    name: 'caffe train, solver missing',
    argv: ['train', '-solver', at('no-solver.prototxt')],
    names: at('no-solver.prototxt'),
    says: /no such file/,
  },
  {
    name: 'caffe train, net of the solver missing',
    argv: ['train', '-solver', write('s-nonet.prototxt', solverFor(at('no-net.prototxt')))],
    names: at('no-net.prototxt'),
    says: /no such file/,
  },
  {
    name: 'caffe train, --weights missing',
    argv: ['train', '-solver', tinySolver, '-weights', at('no.caffemodel')],
    names: at('no.caffemodel'),
    says: /no such file/,
  },
  {
    name: 'caffe train, --snapshot missing',
    argv: ['train', '-solver', tinySolver, '-snapshot', at('no.solverstate')],
    names: at('no.solverstate'),
    says: /no such file/,
  },
  {
    name: 'caffe test, --model missing',
    argv: ['test', '-model', at('no-net.prototxt'), '-weights', at('no.caffemodel')],
    names: at('no-net.prototxt'),
    says: /no such file/,
  },
  {
    name: 'caffe test, --weights missing',
    argv: ['test', '-model', tiny, '-weights', at('no.caffemodel')],
    names: at('no.caffemodel'),
    says: /no such file/,
  },
  {
    name: 'caffe time, --model missing',
    argv: ['time', '-model', at('no-net.prototxt')],
    names: at('no-net.prototxt'),
    says: /no such file/,
  },
  {
    name: 'caffe compute_image_mean, database missing',
    argv: ['compute_image_mean', at('no-such-lmdb'), at('m.binaryproto')],
    names: at('no-such-lmdb'),
    says: /no such LMDB folder or file/,
  },
  {
    name: 'caffe compute_image_mean, a folder without data.mdb',
    argv: ['compute_image_mean', at('empty-folder'), at('m.binaryproto')],
    names: at('empty-folder'),
    says: /without data.mdb/,
  },
  {
    name: 'caffe convert_imageset, list file missing',
    argv: ['convert_imageset', `${dir}/`, at('no-such-list.txt'), at('db')],
    names: at('no-such-list.txt'),
    says: /no such file/,
  },
);

describe('a missing input is exit 65 and one line naming it', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const { name, argv, names, says } of cases) {
    it(name, () => {
      // The plain-JavaScript backend starts quickest; the data tools take no --backend of this kind.
      const backend = ['train', 'test', 'time'].includes(argv[0]!) ? ['--backend=cpu'] : [];
      const run = spawnSync(process.execPath, [CAFFE, ...argv, ...backend], { encoding: 'utf8' });
      assert.equal(run.status, 65, run.stderr);
      assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace');
      const last = run.stderr.trimEnd().split('\n').at(-1)!;
      assert.ok(last.startsWith(`caffe: ${names}: `), `the last line names ${names}: ${last}`);
      assert.match(last, says);
    });
  }
});
