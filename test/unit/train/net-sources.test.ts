import assert from 'node:assert/strict';
import { test } from 'node:test';

import { creatingNetLine, testNetSources, trainNetSource } from '../../../trainer/train/net-sources.js';

test("each net's source is logged in Caffe's words (Solver::InitTrainNet, InitTestNets)", () => {
  const net = { name: 'n' };
  const lines = (solver: object) => [
    creatingNetLine(trainNetSource(solver, 's.prototxt')),
    ...testNetSources(solver, 's.prototxt').map((source, i) => creatingNetLine(source, i)),
  ];
  assert.deepEqual(lines({ net: 'train_val.prototxt', testIter: [5, 5] }), [
    'Creating training net from net file: train_val.prototxt',
    'Creating test net (#0) specified by net file: train_val.prototxt',
    'Creating test net (#1) specified by net file: train_val.prototxt',
  ]);
  assert.deepEqual(lines({ trainNet: 't.prototxt', testNet: ['v.prototxt'], testIter: [1] }), [
    'Creating training net from train_net file: t.prototxt',
    'Creating test net (#0) specified by test_net file: v.prototxt',
  ]);
  assert.deepEqual(lines({ netParam: net, testIter: [1] }), [
    'Creating training net specified in net_param.',
    'Creating test net (#0) specified by net_param',
  ]);
  assert.deepEqual(lines({ trainNetParam: net, testNetParam: [net], testIter: [1] }), [
    'Creating training net specified in train_net_param.',
    'Creating test net (#0) specified by test_net_param',
  ]);
});
