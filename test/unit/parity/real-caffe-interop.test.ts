// Real BVLC Caffe (test/support/caffe-reference.ts) and ours, each on the other's files: resume from the
// other's .solverstate, `caffe test` on real Caffe's weights, Caffe's own tools/extra/parse_log.py on both
// logs, the net set-up lines ("Top shape", "Memory required for data") of the deploy nets in Caffe's
// models/ and examples/, and the lines of `caffe time`. On Caffe's examples/mnist LeNet from one starting
// .caffemodel (lenet-fixture.ts), SGD with momentum.
//
// Differences on purpose, and what is checked instead: our own snapshots carry a .progress.json with the
// data readers' positions, and our resume from them goes on where the run stopped; real Caffe (and our
// resume from a snapshot without that record, such as Caffe's) starts the data again from the first
// record. So the losses after a resume are compared with both tools reading from the first record.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { caffeReference, caffeReferenceMissing } from '../../support/caffe-reference.js';
import { CAFFE } from '../data/prep-checks.js';
import { type LenetFixture, lenetFixture, losses, ours, solverText } from './lenet-fixture.js';

const skip = caffeReferenceMissing() ?? false;
const work = mkdtempSync(join(tmpdir(), 'brewery-real-caffe-interop-'));
after(() => rmSync(work, { recursive: true, force: true }));

const ITERATIONS = 12;
const RESUME_AT = 6;
/** Relative loss difference allowed between the tools (SGD; see real-caffe-solvers.test.ts). */
const LOSS = 1e-4;

let fixture: LenetFixture;
/** Each tool's log of the same run from the starting weights: tests at 0, 6, 12, a snapshot at 6 and 12. */
const firstRun = { theirs: '', ours: '' };

/** A solver in examples/mnist: LeNet's own, `iterations` long, with `extra` fields. */
function writeSolver(name: string, extra: string): string {
  const file = `examples/mnist/${name}.prototxt`;
  writeFileSync(join(fixture.root, file), solverText(fixture.baseSolver, '', ITERATIONS, extra));
  return file;
}

function assertSameLosses(mine: Map<number, number>, theirs: Map<number, number>, what: string): void {
  assert.ok(theirs.size > 0, `${what}: real Caffe logged no loss`);
  assert.deepEqual([...mine.keys()], [...theirs.keys()], `${what}: iterations logged`);
  for (const [iteration, loss] of theirs) {
    const mineLoss = mine.get(iteration)!;
    assert.ok(
      Math.abs(mineLoss - loss) <= LOSS * Math.max(1, Math.abs(loss)),
      `${what}, iteration ${iteration}: ours ${mineLoss}, real Caffe's ${loss}`,
    );
  }
}

before(async () => {
  if (skip) return;
  fixture = await lenetFixture(join(work, 'lenet'), 64 * ITERATIONS);
  const tested = `test_interval: ${RESUME_AT} test_iter: 2 test_initialization: true snapshot: ${RESUME_AT}`;
  const args = (prefix: string) => [
    'train',
    `--solver=${writeSolver(`solver_${prefix}`, `${tested} snapshot_prefix: "${prefix}"`)}`,
    '--weights=init_iter_0.caffemodel',
  ];
  firstRun.theirs = caffeReference()!.run('caffe', args('theirs'), { cwd: fixture.root }).stderr;
  firstRun.ours = ours(args('ours'), fixture.root);
});

describe("real Caffe and ours, each on the other's files", { skip }, () => {
  it(`both resume from real Caffe's iteration-${RESUME_AT} .solverstate to the same losses (relative ${LOSS})`, () => {
    const solver = writeSolver('solver_resume_theirs', 'snapshot: 0');
    const args = ['train', `--solver=${solver}`, `--snapshot=theirs_iter_${RESUME_AT}.solverstate`];
    const theirs = losses(caffeReference()!.run('caffe', args, { cwd: fixture.root }).stderr);
    const mine = losses(ours(args, fixture.root));
    assert.equal(Math.min(...theirs.keys()), RESUME_AT, 'real Caffe resumed at the snapshot');
    assertSameLosses(mine, theirs, "resumed from real Caffe's snapshot");
  });

  it(`real Caffe resumes from our iteration-${RESUME_AT} .solverstate to the losses ours does (relative ${LOSS})`, () => {
    const solver = writeSolver('solver_resume_ours', 'snapshot: 0');
    const args = ['train', `--solver=${solver}`, `--snapshot=ours_iter_${RESUME_AT}.solverstate`];
    const theirs = losses(caffeReference()!.run('caffe', args, { cwd: fixture.root }).stderr);
    // Without its .progress.json our resume reads from the first record, as Caffe's does (see above).
    const progress = join(fixture.root, `ours_iter_${RESUME_AT}.progress.json`);
    renameSync(progress, `${progress}.aside`);
    try {
      assertSameLosses(losses(ours(args, fixture.root)), theirs, 'resumed from our snapshot');
    } finally {
      renameSync(`${progress}.aside`, progress);
    }
    // And the uninterrupted runs agree too, so each snapshot was the other's state at that point, and so
    // does the loss of the forward pass Caffe runs after the last update (`Iteration 12, loss = X`).
    assertSameLosses(losses(firstRun.ours), losses(firstRun.theirs), 'the first run');
    const finalLoss = (log: string) => Number(/\] Iteration \d+, loss = ([-\d.e+]+)/.exec(log)?.[1]);
    const [a, b] = [finalLoss(firstRun.ours), finalLoss(firstRun.theirs)];
    assert.ok(Math.abs(a - b) <= LOSS * Math.max(1, Math.abs(b)), `final loss: ours ${a}, real Caffe's ${b}`);
  });

  it(`caffe test scores real Caffe's iteration-${ITERATIONS} weights as real Caffe does`, () => {
    const args = [
      'test',
      '--model=examples/mnist/lenet_train_test.prototxt',
      `--weights=theirs_iter_${ITERATIONS}.caffemodel`,
      '--iterations=3',
    ];
    const final = (log: string, name: string) => {
      const match = [...log.matchAll(new RegExp(`\\] ${name} = ([-\\d.e+]+)`, 'g'))].at(-1);
      assert.ok(match, `no final '${name} = ' line in:\n${log}`);
      return Number(match[1]);
    };
    const theirs = caffeReference()!.run('caffe', args, { cwd: fixture.root }).stderr;
    const mine = ours(args, fixture.root);
    assert.equal(final(mine, 'accuracy'), final(theirs, 'accuracy'), 'accuracy');
    const [a, b] = [final(mine, 'loss'), final(theirs, 'loss')];
    assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `loss: ours ${a}, real Caffe's ${b}`);
  });

  it("Caffe's parse_log.py reads our log into the same tables as real Caffe's", () => {
    // tools/extra/parse_log.py is Python 2 by one print statement: a copy with it as a call runs on Python 3.
    const tools = join(caffeReference()!.env.CAFFE_REF_ROOT!, 'src', 'tools', 'extra');
    const scripts = join(work, 'parse-log');
    mkdirSync(scripts, { recursive: true });
    for (const name of ['parse_log.py', 'extract_seconds.py']) {
      const text = readFileSync(join(tools, name), 'utf8').replace(/^(\s*)print ([^(].*)$/gm, '$1print($2)');
      writeFileSync(join(scripts, name), text);
    }
    const tables: Record<string, { train: string[][]; test: string[][] }> = {};
    for (const [tool, log] of Object.entries(firstRun)) {
      const file = join(work, `${tool}.log`);
      writeFileSync(file, log);
      const out = join(work, `parsed-${tool}`);
      mkdirSync(out, { recursive: true });
      const run = spawnSync('/usr/bin/python3', [join(scripts, 'parse_log.py'), file, out], {
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, `parse_log.py on ${tool}'s log:\n${run.stderr}`);
      const read = (kind: string) =>
        readFileSync(join(out, `${basename(file)}.${kind}`), 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.split(','));
      tables[tool] = { train: read('train'), test: read('test') };
    }
    for (const kind of ['train', 'test'] as const) {
      const [mine, theirs] = [tables.ours![kind], tables.theirs![kind]];
      assert.deepEqual(mine[0], theirs[0], `${kind}: columns`);
      assert.equal(mine.length, theirs.length, `${kind}: rows`);
      assert.ok(theirs.length > 2, `${kind}: real Caffe's table has rows`);
      const header = theirs[0]!;
      theirs.slice(1).forEach((row, r) => {
        header.forEach((column, c) => {
          if (column === 'Seconds') return; // wall time: differs by design
          const [x, y] = [Number(mine[r + 1]![c]), Number(row[c])];
          const near = Math.abs(x - y) <= LOSS * Math.max(1, Math.abs(y));
          assert.ok(near, `${kind} row ${r + 1} ${column}: ours ${x}, real Caffe's ${y}`);
        });
      });
    }
  });
});

/** The lines of Caffe's Net::Init that say what the net is: layers, blobs, shapes, memory. */
function setUpLines(log: string): string[] {
  const kinds =
    /^(Creating Layer |Setting up |Top shape: |Memory required for data: |\S+ <- \S+$|\S+ -> \S+( \(in-place\))?$)/;
  return log
    .split('\n')
    .map((line) => /^[IWE]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] (.*)$/.exec(line)?.[1] ?? '')
    .filter((message) => kinds.test(message));
}

/** Deploy nets (an Input layer, no database) of Caffe's models/ and examples/, from the source tree. */
const DEPLOY_NETS = [
  'models/bvlc_alexnet/deploy.prototxt',
  'models/bvlc_googlenet/deploy.prototxt',
  'models/bvlc_reference_caffenet/deploy.prototxt',
  'models/bvlc_reference_rcnn_ilsvrc13/deploy.prototxt',
  'models/finetune_flickr_style/deploy.prototxt',
  'examples/cifar10/cifar10_full.prototxt',
  'examples/cifar10/cifar10_quick.prototxt',
  'examples/mnist/lenet.prototxt',
  'examples/net_surgery/bvlc_caffenet_full_conv.prototxt',
  'examples/net_surgery/conv.prototxt',
  'examples/siamese/mnist_siamese.prototxt',
];

describe("the net set-up lines of Caffe's model-zoo and example nets, against real Caffe", { skip }, () => {
  const theirs = new Map<string, string>();
  before(() => {
    // One pycaffe process sets every net up (TEST phase); a marker line on stderr separates them.
    const caffe = caffeReference()!;
    const paths = DEPLOY_NETS.map((net) => join(caffe.env.CAFFE_REF_ROOT!, 'src', net));
    const script = `
import sys, caffe
for path in sys.argv[1:]:
    sys.stderr.write('@@net ' + path + '\\n'); sys.stderr.flush()
    caffe.Net(path, caffe.TEST)
`;
    const run = spawnSync('/usr/bin/python3', ['-c', script, ...paths], {
      encoding: 'utf8',
      env: caffe.env,
      maxBuffer: 1 << 28,
    });
    assert.equal(run.status, 0, run.stderr.slice(-2000));
    for (const part of run.stderr.split('@@net ').slice(1)) {
      theirs.set(part.slice(0, part.indexOf('\n')), part);
    }
  });

  for (const net of DEPLOY_NETS) {
    it(`${net}: every Creating Layer, <-, ->, Top shape and Memory required for data line as Caffe's`, () => {
      const path = join(caffeReference()!.env.CAFFE_REF_ROOT!, 'src', net);
      const run = spawnSync(process.execPath, [CAFFE, 'describe', `--model=${path}`, '--phase=TEST'], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      assert.equal(run.status, 0, run.stderr);
      const expected = setUpLines(theirs.get(path) ?? '');
      assert.ok(
        expected.some((line) => line.startsWith('Top shape: ')),
        `no Top shape lines from real Caffe for ${net}`,
      );
      assert.deepEqual(setUpLines(run.stderr), expected);
    });
  }
});

describe("caffe time's lines against real Caffe's", { skip }, () => {
  it('examples/mnist/lenet.prototxt: the same per-layer forward and backward lines and the same totals', () => {
    const caffe = caffeReference()!;
    const model = join(caffe.env.CAFFE_REF_ROOT!, 'src', 'examples', 'mnist', 'lenet.prototxt');
    const args = ['time', `--model=${model}`, '--iterations=2'];
    const shape = (log: string) =>
      log
        .split('\n')
        .map((line) => /\] (.*)$/.exec(line)?.[1] ?? '')
        .map((message) =>
          /^\s*\S+\s+(forward|backward): [\d.]+ ms\.$/.test(message) ||
          /^Average (Forward|Backward|Forward-Backward)( pass)?: [\d.]+ ms\.$/.test(message) ||
          /^Total Time: [\d.]+ ms\.$/.test(message) ||
          /^Iteration: \d+ forward-backward time: [\d.]+ ms\.$/.test(message)
            ? message.replace(/[\d.]+ ms\.$/, 'N ms.').trim()
            : '',
        )
        .filter(Boolean);
    const theirs = shape(caffe.run('caffe', args).stderr);
    const mine = shape(ours(args, work));
    assert.ok(theirs.length >= 2 * 7 + 4, `real Caffe's lines: ${theirs.join(' | ')}`);
    assert.deepEqual(mine, theirs);
  });
});
