// `caffe train --solver=S [--snapshot=X.solverstate] [--weights=A.caffemodel[,B]] [--backend=B]
// [--data-shape=C,H,W]`: Caffe's training tool. Builds the train and test nets the solver names, trains to
// max_iter and snapshots (CAFFE_FACTS §4.1, §5), printing Caffe's lines (§6.2) to stderr. SIGTERM or SIGINT
// finishes the current iteration, snapshots and exits 0.
import { randomInt } from 'node:crypto';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';

import { initBackend } from '../../backend/index.js';
import { ExitCode, UsageError } from '../../errors.js';
import {
  decodeNetParameter,
  decodeSolverState,
  encodeNetParameter,
  parseSolverPrototxt,
  printSolverPrototxt,
} from '../../proto/index.js';
import { readBytes, readText } from '../../proto/io.js';
import {
  fromSolverStateMessage,
  glogSink,
  type LogSink,
  logLines,
  Solver,
  type SolverStateMessage,
  type SolverStateRecord,
} from '../../solver/index.js';
import { testNetSources, trainNetSource } from '../../train/net-sources.js';
import { TrainingNets } from '../../train/nets.js';
import { listenForStop } from '../../train/signals.js';
import { type ProgressRecord, ProgressSnapshotWriter, readProgress } from '../../train/snapshots.js';
import { registerCommand } from '../command.js';
import { dataShapeFlag, parseFlags } from '../flags.js';

const usage =
  'caffe train --solver=S [--snapshot=X.solverstate | --weights=A.caffemodel[,B.caffemodel...]] ' +
  '[--backend=auto|tensorflow|wasm|cpu] [--data-shape=C,H,W (default 3,256,256)]';

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      solver: { type: 'string' },
      snapshot: { type: 'string' },
      weights: { type: 'string' },
      backend: { type: 'string' },
      'data-shape': { type: 'string' },
    },
    usage,
  );
  if (positionals.length > 0)
    throw new UsageError(`unexpected arguments: ${positionals.join(' ')}\nusage: ${usage}`);
  if (!values.solver) throw new UsageError(`--solver is required\nusage: ${usage}`);
  if (values.snapshot && values.weights) {
    throw new UsageError('give --snapshot to resume training or --weights to fine-tune, but not both');
  }
  const weightFiles = (values.weights ?? '')
    .split(',')
    .map((w) => w.trim())
    .filter((w) => w.length > 0);
  const dataShape = dataShapeFlag(values['data-shape']);
  const log: LogSink = glogSink({
    clock: { now: () => Date.now() },
    threadId: process.pid,
    write: (text) => process.stderr.write(`${text}\n`),
  });
  const info = (source: string, message: string) => log({ severity: 'I', source, message });

  await initBackend(values.backend);
  const solverFile = values.solver;
  const param = parseSolverPrototxt(await readText(solverFile), solverFile);
  info('caffe.cpp:218', `Initializing solver from parameters:\n${printSolverPrototxt(param)}`);
  const seed = (param.randomSeed ?? -1) >= 0 ? Number(param.randomSeed) : randomInt(2 ** 31);

  let resume: { file: string; state: SolverStateRecord; progress: ProgressRecord | undefined } | undefined;
  if (values.snapshot) {
    const bytes = await readBytes(values.snapshot);
    const message = decodeSolverState(bytes, values.snapshot) as SolverStateMessage;
    const state = fromSolverStateMessage(message, values.snapshot);
    resume = { file: values.snapshot, state, progress: await readProgress(values.snapshot, bytes) };
  }

  const nets = await TrainingNets.build(
    trainNetSource(param, solverFile),
    testNetSources(param, solverFile),
    {
      seed,
      dataShape,
      ...(resume?.progress ? { position: resume.progress.position } : {}),
    },
  );
  const signals = listenForStop();
  let solver: Solver | undefined;
  try {
    for (const file of weightFiles) {
      info('caffe.cpp:250', `Finetuning from ${file}`);
      const weights = decodeNetParameter(await readBytes(file), file);
      for (const net of [nets.train, ...nets.tests]) {
        for (const name of net.copyTrainedLayersFrom(weights, file).ignored) {
          info('net.cpp:1080', `Ignoring source layer ${name}`);
        }
      }
    }
    if (resume?.state.learnedNet) {
      const file = resume.state.learnedNet;
      nets.train.copyTrainedLayersFrom(decodeNetParameter(await readBytes(file), file), file);
    }

    let lastLoss: number | undefined;
    let lastSnapshotIter = -1;
    const tests = new Map<number, ProgressRecord['tests'][number]>();
    for (const test of resume?.progress?.tests ?? []) tests.set(test.netIndex, test);
    const writer = new ProgressSnapshotWriter({
      encodeModel: async () => encodeNetParameter(await nets.train.toNetParameter()),
      position: () => nets.position(),
      lastLoss: () => lastLoss ?? resume?.progress?.lastLoss,
      tests: () => [...tests.values()],
    });
    solver = new Solver({
      params: nets.train.learnableParams(),
      param,
      trainNet: {
        name: nets.train.name,
        // A turn of the event loop before each pass, so a signal's handler runs even on a backend whose
        // reads resolve without one (cpu).
        forwardBackward: async () => {
          await setImmediatePromise();
          return nets.train.forwardBackward();
        },
        forward: () => nets.train.forward(),
      },
      testNets: nets.tests,
      snapshotWriter: writer,
      log,
      requestedAction: () => signals.requestedAction(),
      observer: {
        onIteration: ({ loss }) => {
          lastLoss = loss;
        },
        onTest: ({ iter, netIndex, loss, outputs }) => {
          tests.set(netIndex, {
            netIndex,
            iteration: iter,
            ...(loss === undefined ? {} : { loss }),
            outputs,
          });
        },
        onSnapshot: ({ iter }) => {
          lastSnapshotIter = iter;
        },
      },
    });
    info('caffe.cpp:224', 'Starting Optimization');
    if (resume) {
      info('caffe.cpp:226', `Resuming from ${resume.file}`);
      const lossWindow = resume.progress?.lossWindow;
      await solver.solve({
        file: resume.file,
        state: { ...resume.state, ...(lossWindow ? { lossWindow } : {}) },
      });
    } else {
      await solver.solve();
    }
    // A stop request always leaves a snapshot, even with snapshot_after_train: false.
    if (signals.received && lastSnapshotIter !== solver.iter) await solver.snapshot();
    if (!signals.received) log(logLines.toolOptimizationDone());
  } finally {
    signals.dispose();
    solver?.dispose();
    await nets.dispose();
  }
  return ExitCode.Ok;
}

registerCommand({
  name: 'train',
  summary: 'train a net with a solver (or resume, or fine-tune)',
  usage,
  run,
});
