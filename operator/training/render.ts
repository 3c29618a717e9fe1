// The effective prototxts of a job: the user's net and solver with the dataset's shards and mean in
// the Data layers, the solver pointed at the mounted net, and snapshot_prefix at the job's URI. Pure;
// a prototxt that does not parse throws BadInputError naming the file, line and field.

import { BadInputError } from '../../trainer/contract/errors.js';
import {
  type NetParameter,
  Phase,
  parseNetPrototxt,
  parseSolverPrototxt,
  printNetPrototxt,
  printSolverPrototxt,
} from '../../trainer/proto/index.js';
import type { CaffeTrainingJobSpec } from '../api/caffe-training-job.js';
import { NET_FILE, snapshotPrefixOf } from './objects.js';

/** A prototxt's text and where it came from, for error messages. */
export interface PrototxtText {
  text: string;
  where: string;
}

/** Where the Data layers read from: the dataset's output, or the job's explicit data. */
export interface DataLocations {
  train?: string;
  val?: string;
  mean?: string;
}

export interface RenderedPrototxts {
  net: string;
  solver: string;
  /** The solver's max_iter, for status before the trainer reports. */
  maxIter: number;
}

export function renderPrototxts(
  spec: CaffeTrainingJobSpec,
  net: PrototxtText,
  solver: PrototxtText,
  data: DataLocations,
): RenderedPrototxts {
  const netParam = withData(parseNetPrototxt(net.text, net.where), data);
  const solverParam = parseSolverPrototxt(solver.text, solver.where);
  // One net, the mounted one: train_net, test_net and inline nets would bypass the data rewrite.
  for (const field of ['trainNet', 'testNet', 'netParam', 'trainNetParam', 'testNetParam'] as const) {
    delete solverParam[field];
  }
  // Relative, as Caffe reads it: from the working directory, which is the mounted ConfigMap. The
  // solver file itself names no path of the pod, so it reads the same wherever the volume is.
  solverParam.net = NET_FILE;
  solverParam.snapshotPrefix = snapshotPrefixOf(spec);
  if (solverParam.maxIter === undefined) {
    throw new BadInputError('max_iter is required: a training job must know where it ends', solver.where);
  }
  return {
    net: printNetPrototxt(netParam),
    solver: printSolverPrototxt(solverParam),
    maxIter: Number(solverParam.maxIter),
  };
}

/** Points each Data layer at the train or val shards, and a layer that uses a mean file at the mean. */
function withData(net: NetParameter, data: DataLocations): NetParameter {
  for (const layer of net.layer ?? []) {
    if (layer.type !== 'Data') continue;
    const phases = (layer.include ?? []).map((rule) => rule.phase);
    const source = phases.includes(Phase.TEST) ? data.val : data.train;
    if (source) layer.dataParam = { ...layer.dataParam, source };
    if (data.mean && layer.transformParam?.meanFile !== undefined) {
      layer.transformParam = { ...layer.transformParam, meanFile: data.mean };
    }
  }
  return net;
}
