// `caffe train --solver=S [--snapshot=X.solverstate] [--weights=A.caffemodel[,B]] [--backend=B]
// [--data-shape=C,H,W] [--metrics-port=P] [--status-file=URI] [--keep-snapshots=K] [--skip-damaged-records]`:
// Caffe's training tool.
// Builds the train and test nets the solver names, trains to max_iter and snapshots (Solver::Solve and
// Solver::Snapshot in BVLC/caffe src/caffe/solver.cpp), printing Caffe's lines to stderr. SIGTERM or
// SIGINT finishes the current iteration, snapshots and exits 0. Optionally serves Prometheus metrics, keeps
// a live status record and deletes old snapshots.
import { randomInt } from 'node:crypto';
import type { Server } from 'node:http';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';

import { initBackend } from '../../backend/index.js';
import { ExitCode, UsageError } from '../../contract/errors.js';
import type { LiveProgress } from '../../contract/live-status.js';
import { readBytes, readText } from '../../files.js';
import {
  decodeNetParameter,
  decodeSolverState,
  encodeNetParameter,
  parseSolverPrototxt,
  printSolverPrototxt,
} from '../../proto/index.js';
import {
  fromSolverStateMessage,
  glogSink,
  type LogSink,
  logLines,
  Solver,
  type SolverStateMessage,
  type SolverStateRecord,
  solverSettings,
} from '../../solver/index.js';
import { MIN_ITERATION_MS, paceFromEnv } from '../../test-pace.js';
import { LiveStatusWriter } from '../../train/live-status.js';
import {
  closeServer,
  imagesPerIteration,
  metricsPort,
  serveMetrics,
  ThroughputWindow,
  TrainingMetrics,
} from '../../train/metrics.js';
import { testNetSources, trainNetSource } from '../../train/net-sources.js';
import { TrainingNets } from '../../train/nets.js';
import { listenForStop } from '../../train/signals.js';
import {
  type ProgressRecord,
  ProgressSnapshotWriter,
  pruneSnapshots,
  readProgress,
  snapshotPrefixOf,
} from '../../train/snapshots.js';
import { registerCommand } from '../command.js';
import { dataShapeFlag, parseFlags } from '../flags.js';

const usage =
  'caffe train --solver=S [--snapshot=X.solverstate | --weights=A.caffemodel[,B.caffemodel...]] ' +
  '[--backend=auto|tensorflow|wasm|cpu] [--data-shape=C,H,W (default 3,256,256)] ' +
  '[--metrics-port=P (or BREWERY_METRICS_PORT)] [--status-file=URI] [--keep-snapshots=K] ' +
  '[--skip-damaged-records]';

// Where our own lines say they come from; parsers match on the message, never on this.
const logSource = 'train.ts:1';

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      solver: { type: 'string' },
      snapshot: { type: 'string' },
      weights: { type: 'string' },
      backend: { type: 'string' },
      'data-shape': { type: 'string' },
      'metrics-port': { type: 'string' },
      'status-file': { type: 'string' },
      'keep-snapshots': { type: 'string' },
      'skip-damaged-records': { type: 'boolean' },
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
  const port = metricsPort(values['metrics-port'], process.env);
  const keepSnapshots = keepSnapshotsFlag(values['keep-snapshots']);
  const statusFile = values['status-file'];
  const log: LogSink = glogSink({
    clock: { now: () => Date.now() },
    threadId: process.pid,
    write: (text) => process.stderr.write(`${text}\n`),
  });
  const info = (source: string, message: string) => log({ severity: 'I', source, message });
  const warn = (message: string) => log({ severity: 'W', source: logSource, message });
  // First, which Node.js trains: a log then tells what ran it (the image's node, or the machine's).
  info(logSource, `caffe train on Node.js ${process.version} (${process.platform}-${process.arch})`);

  // Up from the start, so a scrape during start-up (a slow dataset open) finds the process metrics.
  const metrics = port === undefined ? undefined : new TrainingMetrics();
  let server: Server | undefined;
  if (metrics && port !== undefined) {
    // On a host whose pods share one network (the local kubelet) each pod listens on its own address.
    server = await serveMetrics(metrics.registry, port, process.env.BREWERY_LISTEN_HOST ?? '0.0.0.0');
    info(logSource, `Serving Prometheus metrics on port ${port} at /metrics`);
  }
  try {
    await train({
      solverFile: values.solver,
      snapshot: values.snapshot,
      weightFiles,
      backend: values.backend,
      dataShape,
      metrics,
      statusFile,
      keepSnapshots,
      skipDamagedRecords: values['skip-damaged-records'] ?? false,
      log,
      info,
      warn,
    });
  } finally {
    if (server) await closeServer(server);
  }
  return ExitCode.Ok;
}

interface TrainOptions {
  solverFile: string;
  snapshot: string | undefined;
  weightFiles: string[];
  backend: string | undefined;
  dataShape: ReturnType<typeof dataShapeFlag>;
  metrics: TrainingMetrics | undefined;
  statusFile: string | undefined;
  keepSnapshots: number | undefined;
  /**
   * Skip records that do not parse or decode, with a warning naming each, instead of failing with
   * bad input. Off by default: as Caffe (which aborts), a damaged dataset stops the run at once,
   * naming the shard and record, rather than training quietly on less data than asked for.
   */
  skipDamagedRecords: boolean;
  log: LogSink;
  info: (source: string, message: string) => void;
  warn: (message: string) => void;
}

async function train(options: TrainOptions): Promise<void> {
  const { solverFile, weightFiles, dataShape, metrics, log, info, warn } = options;
  const backend = await initBackend(options.backend);
  const param = parseSolverPrototxt(await readText(solverFile), solverFile);
  info('caffe.cpp:218', `Initializing solver from parameters:\n${printSolverPrototxt(param)}`);
  const seed = (param.randomSeed ?? -1) >= 0 ? Number(param.randomSeed) : randomInt(2 ** 31);

  let resume: { file: string; state: SolverStateRecord; progress: ProgressRecord | undefined } | undefined;
  if (options.snapshot) {
    const file = options.snapshot;
    const bytes = await readBytes(file);
    const message = decodeSolverState(bytes, file) as SolverStateMessage;
    const state = fromSolverStateMessage(message, file);
    resume = { file, state, progress: await readProgress(file, bytes) };
  }

  let damagedRecords = 0;
  const onDamagedRecord = (message: string) => {
    damagedRecords++;
    warn(`Skipping damaged record #${damagedRecords}: ${message}`);
  };
  const nets = await TrainingNets.build(
    trainNetSource(param, solverFile),
    testNetSources(param, solverFile),
    {
      seed,
      dataShape,
      ...(resume?.progress ? { position: resume.progress.position } : {}),
      ...(options.skipDamagedRecords ? { onDamagedRecord } : {}),
    },
  );
  const signals = listenForStop();
  let solver: Solver | undefined;
  try {
    // After the nets, so a missing net file is reported before a bad solver field, as Caffe does.
    const settings = solverSettings(param);
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
    const live: LiveProgress = {
      state: 'running',
      iteration: resume?.state.iter ?? 0,
      maxIter: settings.maxIter,
      trainLoss: 0,
      lastLoss: 0,
      learningRate: 0,
      imagesPerSecond: 0,
      tests: [],
      ...(resume?.progress
        ? {
            latestSnapshot: {
              iteration: resume.progress.iteration,
              caffemodel: resume.progress.model.file,
              solverstate: resume.progress.solverState.file,
            },
          }
        : {}),
    };
    const status = options.statusFile
      ? new LiveStatusWriter({
          uri: options.statusFile,
          progress: () => ({ ...live, tests: liveTests(tests) }),
          warn,
        })
      : undefined;
    // The record is first written after the first iteration, when there is a loss to report.
    let iterated = false;
    metrics?.runStarted({
      net: nets.train.name,
      solverType: settings.type,
      backend: backend.name,
      maxIter: settings.maxIter,
      iteration: live.iteration,
    });

    const writer = new ProgressSnapshotWriter({
      encodeModel: async () => encodeNetParameter(await nets.train.toNetParameter()),
      position: () => nets.position(),
      lastLoss: () => lastLoss ?? resume?.progress?.lastLoss,
      tests: () => [...tests.values()],
      onComplete: async ({ record, progressFile, seconds }) => {
        metrics?.snapshotDone(seconds);
        live.latestSnapshot = {
          iteration: record.iteration,
          caffemodel: record.model.file,
          solverstate: record.solverState.file,
        };
        const prefix = snapshotPrefixOf(progressFile);
        if (options.keepSnapshots !== undefined && prefix !== undefined) {
          await pruneSnapshots(prefix, options.keepSnapshots, record.iteration).catch((error: unknown) =>
            warn(`could not delete old snapshots of ${prefix}: ${(error as Error).message}`),
          );
        }
        if (iterated) void status?.write();
      },
    });
    const images = imagesPerIteration(nets.train.spec, settings.iterSize);
    const throughput = new ThroughputWindow(settings.display);
    const pace = paceFromEnv(MIN_ITERATION_MS, 'iteration', warn);
    let iterationStart: number | undefined;
    solver = new Solver({
      params: nets.train.learnableParams(),
      param,
      trainNet: {
        name: nets.train.name,
        // A turn of the event loop before each pass, so a signal's handler (and a metrics scrape) runs even
        // on a backend whose reads resolve without one (cpu).
        forwardBackward: async () => {
          await setImmediatePromise();
          await pace?.next();
          iterationStart ??= performance.now();
          return nets.train.forwardBackward();
        },
        forward: () => nets.train.forward(),
      },
      testNets: nets.tests,
      snapshotWriter: writer,
      log,
      requestedAction: () => signals.requestedAction(),
      observer: {
        onIteration: ({ iter, loss, smoothedLoss, rate }) => {
          const end = performance.now();
          const seconds = (end - (iterationStart ?? end)) / 1000;
          iterationStart = undefined;
          lastLoss = loss;
          live.iteration = iter + 1;
          live.lastLoss = loss;
          live.trainLoss = smoothedLoss;
          live.learningRate = rate;
          live.imagesPerSecond = throughput.add(images, seconds);
          metrics?.iterationDone({
            iteration: live.iteration,
            loss,
            smoothedLoss,
            learningRate: rate,
            imagesPerSecond: live.imagesPerSecond,
            seconds,
          });
          iterated = true;
          status?.tick();
        },
        onTest: ({ iter, netIndex, loss, outputs }) => {
          const result = { netIndex, iteration: iter, ...(loss === undefined ? {} : { loss }), outputs };
          tests.set(netIndex, result);
          metrics?.testDone(result);
          if (iterated) void status?.write();
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
    if (options.skipDamagedRecords) info(logSource, `Skipped ${damagedRecords} damaged records`);
    if (!signals.received) log(logLines.toolOptimizationDone());
    live.iteration = solver.iter;
    live.state = signals.received ? 'stopped' : 'succeeded';
    await status?.write();
  } finally {
    signals.dispose();
    solver?.dispose();
    await nets.dispose();
  }
}

/** --keep-snapshots=K: a positive integer, or undefined (keep all). */
function keepSnapshotsFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const keep = Number(value);
  if (!Number.isInteger(keep) || keep < 1) {
    throw new UsageError(`--keep-snapshots: expected a whole number of at least 1, received '${value}'`);
  }
  return keep;
}

/** The status record's test results: name and value of each output (the loss weight stays in the log). */
function liveTests(tests: Map<number, ProgressRecord['tests'][number]>): LiveProgress['tests'] {
  return [...tests.values()]
    .sort((a, b) => a.netIndex - b.netIndex)
    .map(({ outputs, ...rest }) => ({
      ...rest,
      outputs: outputs.map(({ name, value }) => ({ name, value })),
    }));
}

registerCommand({
  name: 'train',
  summary: 'train a net with a solver (or resume, or fine-tune)',
  usage,
  run,
});
