// Which net files (or inline nets) a solver names for training and testing, and the state each is built
// in, as Caffe's Solver::InitTrainNet and InitTestNets decide.
import { BadInputError } from '../contract/errors.js';
import type { NetParameter, NetState, SolverParameter } from '../proto/index.js';

/** One net to build: from a file (local path or s3:// URI, relative to the current directory) or inline. */
export interface NetSource {
  /** The solver field the net came from. */
  field: 'net' | 'net_param' | 'train_net' | 'train_net_param' | 'test_net' | 'test_net_param';
  file?: string;
  inline?: NetParameter;
  /** Names the net in log lines and errors. */
  label: string;
  state: NetState;
}

/** The TRAIN net: exactly one of train_net_param, train_net, net_param, net. */
export function trainNetSource(solver: SolverParameter, where: string): NetSource {
  const given = [
    solver.trainNetParam && 'train_net_param',
    solver.trainNet && 'train_net',
    solver.netParam && 'net_param',
    solver.net && 'net',
  ].filter(Boolean);
  if (given.length !== 1) {
    throw new BadInputError(
      `expected exactly one of net, net_param, train_net, train_net_param, received ${given.length === 0 ? 'none' : given.join(', ')}`,
      where,
    );
  }
  const state = solver.trainState ?? {};
  if (solver.trainNetParam)
    return { field: 'train_net_param', inline: solver.trainNetParam, label: 'train_net_param', state };
  if (solver.trainNet) return { field: 'train_net', file: solver.trainNet, label: solver.trainNet, state };
  if (solver.netParam) return { field: 'net_param', inline: solver.netParam, label: 'net_param', state };
  return { field: 'net', file: solver.net!, label: solver.net!, state };
}

/**
 * The TEST nets: test_net_param entries, then test_net files, then (for the remaining test_iter entries) the
 * general net. test_state[i], when given, sets net i's level and stages.
 */
export function testNetSources(solver: SolverParameter, where: string): NetSource[] {
  const sources: Omit<NetSource, 'state'>[] = [
    ...(solver.testNetParam ?? []).map((inline) => ({
      field: 'test_net_param' as const,
      inline,
      label: 'test_net_param',
    })),
    ...(solver.testNet ?? []).map((file) => ({ field: 'test_net' as const, file, label: file })),
  ];
  const testIter = solver.testIter ?? [];
  if (sources.length > 0 && testIter.length !== sources.length) {
    throw new BadInputError(
      `expected one test_iter per test net (${sources.length}), received ${testIter.length}`,
      where,
    );
  }
  if (sources.length === 0 && testIter.length > 0) {
    const general = solver.netParam
      ? { field: 'net_param' as const, inline: solver.netParam, label: 'net_param' }
      : solver.net
        ? { field: 'net' as const, file: solver.net, label: solver.net }
        : undefined;
    if (!general) {
      throw new BadInputError('test_iter is set but there is no net, net_param or test_net to test', where);
    }
    for (let i = 0; i < testIter.length; i++) sources.push(general);
  }
  const states = solver.testState ?? [];
  if (states.length > 0 && states.length !== sources.length) {
    throw new BadInputError(
      `expected one test_state per test net (${sources.length}), received ${states.length}`,
      where,
    );
  }
  return sources.map((source, i) => ({ ...source, state: states[i] ?? {} }));
}

/**
 * The line Caffe's Solver logs before it builds a net (Solver::InitTrainNet, InitTestNets): where the
 * net comes from. `testIndex` is undefined for the training net.
 */
export function creatingNetLine(source: NetSource, testIndex?: number): string {
  const inline = source.inline !== undefined;
  if (testIndex === undefined) {
    return inline
      ? `Creating training net specified in ${source.field}.`
      : `Creating training net from ${source.field} file: ${source.file}`;
  }
  return inline
    ? `Creating test net (#${testIndex}) specified by ${source.field}`
    : `Creating test net (#${testIndex}) specified by ${source.field} file: ${source.file}`;
}
