// Benchmark of the operator's CaffeTrainingJob controller on a local cluster of the benchmark's own:
//   1. replacement latency: a tiny job's trainer pod is ended by preemption (a higher-priority GPU pod
//      pinned to its node), by deletion, and by a NoExecute taint on its node, --rounds times each;
//      timed from the old container's end to the job naming a new pod, to the new pod running, to
//      the job being Running again and to the new trainer's first iteration (and from the action to
//      the old container's end);
//   2. reconcile throughput: --jobs jobs created at once, suspended and unschedulable (a nodeSelector no
//      node has), timed until all show their settled status, with the controller's reconciles per
//      second and p50/p99 duration from its metrics, and the process's peak RSS and heap; then deleted,
//      timed until the jobs and their children are gone.
// With --scale, instead: the operator at scale (operator-scale.ts), an ImageNetDataset of --shards shards
// prepared --parallelism at a time beside --jobs (default 1000) suspended, pending and waiting-for-data
// jobs, with the operator as its own process; saved to .brewery/bench/operator-scale.json.
// The operator's controllers run in this process, as the integration tests run them.
//
//   node dist/hack/bench/operator.js [--rounds=5] [--jobs=100] [--out=.brewery/bench/operator.json]
//   node dist/hack/bench/operator.js --scale [--jobs=1000] [--shards=64] [--parallelism=8] [--rest=60]
//
// It starts its own cluster with `hack/cluster up` in BREWERY_CLUSTER_DIR (default
// .brewery/bench-cluster), whose pods run the compiled tree in BREWERY_DIST (default: the tree this
// file runs from, dist/), and always brings it down at the end. Takes about 5 to 10 minutes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

import {
  createNamespace,
  createPriorityClasses,
  kubernetesVersion,
  machineInfo,
  prepareTinyData,
  runOperatorInProcess,
  withBenchCluster,
} from './operator-cluster.js';
import { measureReplacement, type ReplacementSample, WAYS } from './operator-replacement.js';
import { runScale } from './operator-scale-report.js';
import { spread } from './operator-stats.js';
import { measureThroughput, type ThroughputResult, VARIANTS } from './operator-throughput.js';

const BUCKET = 's3://brewery-bench';
const REPLACEMENT_METRICS = [
  ['actToEndedMs', 'action -> old container ended'],
  ['endedToJobNamesPodMs', 'ended -> job names new pod'],
  ['endedToPodRunningMs', 'ended -> new pod Running'],
  ['endedToJobRunningMs', 'ended -> job Running again'],
  ['endedToTrainingMs', 'ended -> new trainer iterating'],
] as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      jobs: { type: 'string' },
      out: { type: 'string' },
      scale: { type: 'boolean', default: false },
      shards: { type: 'string', default: '64' },
      parallelism: { type: 'string', default: '8' },
      rest: { type: 'string', default: '60' },
    },
  });
  if (values.scale) {
    return runScale({
      jobs: positive('jobs', values.jobs ?? '1000'),
      shards: positive('shards', values.shards),
      parallelism: positive('parallelism', values.parallelism),
      restSeconds: positive('rest', values.rest),
      out: values.out ?? '.brewery/bench/operator-scale.json',
    });
  }
  const out = values.out ?? '.brewery/bench/operator.json';
  const rounds = positive('rounds', values.rounds);
  const jobs = positive('jobs', values.jobs ?? '100');
  const machine = machineInfo();
  await withBenchCluster(async (cluster, dist, log) => {
    await createPriorityClasses(cluster);
    const kubernetes = await kubernetesVersion(cluster);
    log('preparing a tiny dataset with caffe imagenet prep + finalize');
    const data = await prepareTinyData(cluster, dist, `${BUCKET}/data`);
    const operator = runOperatorInProcess(cluster, 'bench-operator');
    const throughput: ThroughputResult[] = [];
    let samples: ReplacementSample[] = [];
    try {
      for (const variant of VARIANTS) {
        const namespace = `bench-${variant}`;
        await createNamespace(cluster, namespace);
        log(`${jobs} ${variant} jobs`);
        throughput.push(
          await measureThroughput({
            cluster,
            metrics: operator.metrics,
            namespace,
            variant,
            jobs,
            data,
            snapshotRoot: `${BUCKET}/${namespace}`,
          }),
        );
      }
      await createNamespace(cluster, 'bench-replace');
      log(`replacing a trainer ${rounds} times each by ${WAYS.join(', ')}`);
      samples = await measureReplacement({
        cluster,
        namespace: 'bench-replace',
        data,
        snapshotURI: `${BUCKET}/bench-replace/snap`,
        rounds,
        log,
      });
    } finally {
      await operator.stop();
    }
    const report = {
      date: new Date().toISOString(),
      machine: { ...machine, kubernetes },
      nodes: cluster.nodes,
      processMaxRssMiB: process.resourceUsage().maxRSS / 1024,
      replacement: {
        rounds,
        summarySeconds: replacementSummary(samples),
        samples,
      },
      throughput,
    };
    printReplacement(report.replacement.summarySeconds);
    printThroughput(throughput);
    console.log(
      `machine: ${machine.cores} cores (${machine.cpuModel}), node ${machine.node}, Kubernetes ${kubernetes}, ` +
        `load average at start ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
    );
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`saved ${out}`);
  });
}

type Summary = Record<string, Record<string, { n: number; min: number; median: number; max: number }>>;

function replacementSummary(samples: ReplacementSample[]): Summary {
  const summary: Summary = {};
  for (const way of WAYS) {
    const mine = samples.filter((s) => s.way === way);
    summary[way] = {};
    for (const [key] of REPLACEMENT_METRICS) {
      const seen = mine.flatMap((sample) => (sample[key] === undefined ? [] : [sample[key] / 1000]));
      summary[way][key] = { n: seen.length, ...spread(seen) };
    }
  }
  return summary;
}

function printReplacement(summary: Summary): void {
  console.log('\nreplacement latency, seconds');
  console.log(
    `${'way'.padEnd(11)} ${'n'.padStart(2)}  ${'span'.padEnd(30)} ${'min'.padStart(7)} ${'median'.padStart(7)} ${'max'.padStart(7)}`,
  );
  for (const way of WAYS) {
    for (const [key, label] of REPLACEMENT_METRICS) {
      const s = summary[way]?.[key];
      if (!s) continue;
      console.log(
        `${way.padEnd(11)} ${String(s.n).padStart(2)}  ${label.padEnd(30)} ${s.min.toFixed(2).padStart(7)} ${s.median.toFixed(2).padStart(7)} ${s.max.toFixed(2).padStart(7)}`,
      );
    }
  }
  console.log('(times at watch events, in ms; "iterating" polls kubectl logs every 0.5 s)');
}

function printThroughput(results: ThroughputResult[]): void {
  console.log('\nreconcile throughput');
  const head = [
    ['variant', 14],
    ['jobs', 5],
    ['settle s', 9],
    ['reconciles', 11],
    ['per s', 7],
    ['p50 ms', 7],
    ['p99 ms', 7],
    ['errors', 7],
    ['peak RSS MiB', 13],
    ['peak heap MiB', 14],
    ['cpu s', 7],
    ['delete s', 9],
    ['children gone s', 16],
  ] as const;
  console.log(head.map(([h, w], i) => (i === 0 ? h.padEnd(w) : h.padStart(w))).join(' '));
  for (const r of results) {
    const cells = [
      r.variant,
      r.jobs,
      r.settleSeconds.toFixed(2),
      r.reconciles,
      r.reconcilesPerSecond.toFixed(1),
      r.p50ReconcileMs.toFixed(1),
      r.p99ReconcileMs.toFixed(1),
      r.reconcileErrors,
      r.peakRssMiB.toFixed(0),
      r.peakHeapUsedMiB.toFixed(0),
      r.cpuSeconds.toFixed(2),
      r.deleteSeconds.toFixed(2),
      r.childrenGoneSeconds.toFixed(2),
    ];
    console.log(
      cells
        .map((c, i) => (i === 0 ? String(c).padEnd(head[i]![1]) : String(c).padStart(head[i]![1])))
        .join(' '),
    );
  }
  console.log('(settle: from the first create call; RSS and heap: this one process, operator and benchmark)');
  for (const r of results) console.log(`${r.variant}: a settled job says "${r.sampleMessage}"`);
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name}: expected a positive integer, received '${text}'`);
  return n;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
