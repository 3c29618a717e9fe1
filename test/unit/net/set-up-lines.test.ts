// The net set-up lines `caffe describe` logs, worded as Caffe's net.cpp logs them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { buildNetSpec, setUpLogLines } from '../../../trainer/net/spec/index.js';
import { parseNetPrototxt } from '../../../trainer/proto/index.js';
import { runCli } from '../proto/support.js';
import { TINY_NET } from './support.js';

/** TINY_NET with a loss weight that float32 cannot hold exactly. */
const WEIGHTED = TINY_NET.replace('top: "loss" }', 'top: "loss" loss_weight: 0.3 }');

describe('net set-up lines', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'set-up-lines-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a loss weight as an ostream prints the float (0.3), and marks in-place tops', () => {
    assert.notEqual(WEIGHTED, TINY_NET);
    const lines = setUpLogLines(buildNetSpec(parseNetPrototxt(WEIGHTED), { phase: 0 }));
    assert.ok(lines.includes('    with loss weight 0.3'), lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes('0.30000001')), lines.join('\n'));
    // ReLU's top is its bottom: Net::AppendTop says "(in-place)"; other layers' tops do not.
    assert.ok(lines.includes('relu <- conv'));
    assert.ok(lines.includes('relu -> conv (in-place)'), lines.join('\n'));
    assert.ok(lines.includes('conv -> conv'), lines.join('\n'));
    assert.equal(lines.filter((l) => l.endsWith('(in-place)')).length, 1);
  });

  it('caffe describe logs those lines on stderr', () => {
    const model = path.join(dir, 'weighted.prototxt');
    writeFileSync(model, WEIGHTED);
    const run = runCli(['describe', `--model=${model}`]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^I\d{4} [\d:.]+ +\d+ net\.cpp:\d+\] {5}with loss weight 0\.3$/m);
    assert.match(run.stderr, /^I\d{4} [\d:.]+ +\d+ net\.cpp:\d+\] relu -> conv \(in-place\)$/m);
    // The table's tops column says so too: relu's row, not conv's.
    assert.match(run.stdout, /^relu +ReLU +conv +conv \(in-place\) /m);
    assert.match(run.stdout, /^conv +Convolution +data +conv +\d/m);
  });
});
