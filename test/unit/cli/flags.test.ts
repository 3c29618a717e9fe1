// The gflags forms a Caffe user types, through the one parser every `caffe` subcommand uses, and through
// the built program itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseFlags } from '../../../trainer/cli/flags.js';
import { UsageError } from '../../../trainer/contract/errors.js';
import { CAFFE_MAIN as CAFFE, TINY_NET } from '../../support/tiny-net.js';

const spec = {
  solver: { type: 'string' },
  weights: { type: 'string' },
  gray: { type: 'boolean' },
  stage: { type: 'string', multiple: true },
  out: { type: 'string', default: 'curves.png' },
} as const;
const parse = (argv: string[]) => parseFlags(argv, spec, 'caffe x');

describe('parseFlags (gflags forms)', () => {
  for (const argv of [
    ['-solver', 's.prototxt', '-weights', 'w.caffemodel'],
    ['-solver=s.prototxt', '-weights=w.caffemodel'],
    ['--solver', 's.prototxt', '--weights', 'w.caffemodel'],
    ['--solver=s.prototxt', '--weights=w.caffemodel'],
    ['-solver', 's.prototxt', '--weights=w.caffemodel'],
  ]) {
    it(`reads a string flag given as ${argv.join(' ')}`, () => {
      const { values, positionals } = parse(argv);
      assert.equal(values.solver, 's.prototxt');
      assert.equal(values.weights, 'w.caffemodel');
      assert.deepEqual(positionals, []);
    });
  }

  const booleans: [string[], boolean | undefined][] = [
    [[], undefined],
    [['-gray'], true],
    [['--gray'], true],
    [['--gray=true'], true],
    [['-gray=1'], true],
    [['--gray=yes'], true],
    [['--gray=false'], false],
    [['-gray=0'], false],
    [['--nogray'], false],
    [['-nogray'], false],
    [['--gray', '--nogray'], false],
  ];
  for (const [argv, expected] of booleans) {
    it(`reads the boolean ${JSON.stringify(argv)} as ${expected}`, () => {
      assert.equal(parse(argv).values.gray, expected);
    });
  }

  it('a boolean never takes the next argument as its value, as in gflags', () => {
    assert.deepEqual(parse(['-gray', 'true']), {
      values: { gray: true, out: 'curves.png' },
      positionals: ['true'],
    });
  });

  it('keeps arguments that are not flags in order, wherever they come; -- ends the flags; - is an argument', () => {
    const { values, positionals } = parse(['root/', '-gray', 'list.txt', '-', '--', '-solver', 'db']);
    assert.equal(values.gray, true);
    assert.equal(values.solver, undefined);
    assert.deepEqual(positionals, ['root/', 'list.txt', '-', '-solver', 'db']);
  });

  it('takes a value that starts with a dash when the flag needs one (a negative number)', () => {
    assert.equal(parse(['-solver', '-1']).values.solver, '-1');
    assert.equal(parse(['--solver=a=b']).values.solver, 'a=b');
  });

  it('collects a repeatable flag in order and replaces a default when given', () => {
    assert.deepEqual(parse(['-stage', 'a', '--stage=b']).values.stage, ['a', 'b']);
    assert.equal(parse([]).values.out, 'curves.png');
    assert.equal(parse(['-out', 'x.png']).values.out, 'x.png');
  });

  const errors: [string[], RegExp][] = [
    [['-s', 's.prototxt'], /unknown command line flag 's' \(in '-s'\)/],
    [['--nosolver'], /unknown command line flag 'nosolver'/],
    [['-solver'], /flag '-solver' is missing its argument/],
    [['--gray=maybe'], /--gray=maybe: expected a boolean .*received 'maybe'/],
    [['--nogray=true'], /--nogray=true: a negated boolean flag takes no value/],
  ];
  for (const [argv, message] of errors) {
    it(`refuses ${argv.join(' ')} with a usage error naming the flag`, () => {
      assert.throws(
        () => parse(argv),
        (error: unknown) =>
          error instanceof UsageError && message.test(error.message) && /usage: caffe x/.test(error.message),
      );
    });
  }
});

describe('the caffe program reads every gflags form', () => {
  const dir = mkdtempSync(join(tmpdir(), 'brewery-flags-'));
  const model = join(dir, 'tiny.prototxt');
  writeFileSync(model, TINY_NET);
  after(() => rmSync(dir, { recursive: true, force: true }));
  const caffe = (...argv: string[]) => spawnSync(process.execPath, [CAFFE, ...argv], { encoding: 'utf8' });

  for (const form of [['-model', model], [`-model=${model}`], ['--model', model], [`--model=${model}`]]) {
    it(`caffe describe ${form.join(' ').replace(dir, 'DIR')} -phase TEST`, () => {
      const run = caffe('describe', ...form, '-phase', 'TEST');
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^Net "tiny": phase TEST/);
    });
  }

  it('caffe upgrade_net_proto_text and compute_image_mean refuse an unknown single-dash flag with exit 64', () => {
    for (const tool of ['upgrade_net_proto_text', 'compute_image_mean', 'convert_imageset']) {
      const run = caffe(tool, '-bogus', 'x', 'y');
      assert.equal(run.status, 64, `${tool}: ${run.stderr}`);
      assert.match(run.stderr, /unknown command line flag 'bogus'/);
    }
  });

  it("caffe <command> --help (and -help) prints that command's usage on stdout and exits 0", () => {
    for (const argv of [
      ['time', '--help'],
      ['train', '-help'],
      ['convert_imageset', '--helpshort'],
    ]) {
      const run = caffe(...argv);
      assert.equal(run.status, 0, `${argv.join(' ')}: ${run.stderr}`);
      assert.match(run.stdout, new RegExp(`^usage: caffe ${argv[0]} `));
    }
  });

  it('caffe upgrade_net_proto_text takes its files after --', () => {
    const out = join(dir, 'out.prototxt');
    const run = caffe('upgrade_net_proto_text', '--', model, out);
    assert.equal(run.status, 0, run.stderr);
  });
});
