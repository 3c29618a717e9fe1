// `caffe time --memory`: one training iteration (forward, backward, an SGD update with momentum and
// base_lr 0, so the weights keep their values) with the net's memory observed after every layer's forward
// and every op of its backward, then per layer and phase the highest tensor bytes and RSS, and what held
// the peak. Caffe has no such mode; its "Memory required for data" line counts the activations alone.
import * as tf from '@tensorflow/tfjs-core';

import { MemoryProfile } from '../../net/memory-profile.js';
import type { Net } from '../../net/net.js';
import { Solver } from '../../solver/index.js';

type Log = (source: string, message: string) => void;

/** Runs one observed iteration of `net` and logs the profile. The net's weights are unchanged. */
export async function profileMemory(net: Net, log: Log): Promise<MemoryProfile> {
  const params = net.learnableParams();
  const profile = new MemoryProfile(
    net.layers.map((l) => l.name),
    params.map((p) => p.variable),
  );
  const rssBefore = process.memoryUsage.rss();
  const solver = new Solver({
    param: { type: 'SGD', baseLr: 0, momentum: 0.9, lrPolicy: 'fixed', maxIter: 1 },
    params,
    trainNet: net,
  });
  // SGD keeps one history blob per parameter from the start, as Caffe's solver does.
  profile.historyBytes = params.reduce((sum, p) => sum + p.variable.size * 4, 0);
  net.memoryObserver = profile;
  try {
    await solver.step(1);
    profile.update(profile.historyBytes);
  } finally {
    net.memoryObserver = undefined;
    solver.dispose();
  }
  report(profile, rssBefore, log);
  return profile;
}

function report(profile: MemoryProfile, rssBefore: number, log: Log): void {
  const mib = (bytes: number | undefined) =>
    bytes === undefined ? '-' : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  log(
    'caffe.cpp:406',
    '*** Memory profile: tensors live in tfjs (tf.memory) and process RSS, highest per step ***',
  );
  for (const layer of profile.layers) {
    const name = layer.name.padStart(10);
    log(
      'caffe.cpp:409',
      `${name}\tforward: tensors ${mib(layer.forward?.tensorBytes)}, RSS ${mib(layer.forward?.rssBytes)}\t` +
        `backward: tensors ${mib(layer.backward?.tensorBytes)}, RSS ${mib(layer.backward?.rssBytes)}`,
    );
  }
  const peak = profile.peak;
  const maxRss = process.resourceUsage().maxRSS * 1024;
  if (peak) {
    const h = peak.holders;
    const where =
      peak.layer !== undefined
        ? `${peak.phase} of ${peak.layer}`
        : peak.phase === 'backward'
          ? 'start of backward'
          : peak.phase;
    log('caffe.cpp:414', `Peak tensors: ${mib(peak.tensorBytes)} at the ${where}`);
    log(
      'caffe.cpp:415',
      `Peak held by: activations and other tensors ${mib(h.activations)}, kept for backward ${mib(h.keptForBackward)}, ` +
        `gradients ${mib(h.gradients)}, weights ${mib(h.weights)}, optimizer history ${mib(h.history)}`,
    );
  }
  log(
    'caffe.cpp:418',
    `Peak RSS: ${mib(maxRss)} (process maxRSS; ${mib(rssBefore)} before the iteration); ` +
      `allocator and runtime overhead (peak RSS - peak tensors): ${mib(maxRss - (peak?.tensorBytes ?? 0))}; ` +
      `tensors now ${mib(tf.memory().numBytes)}`,
  );
}
