// `operator.js --scale`: a cluster of its own, the scale scenario (operator-scale.ts), its table and
// its JSON. The cluster is always brought down at the end.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { createNamespace, kubernetesVersion, machineInfo, withBenchCluster } from './operator-cluster.js';
import { measureScale, type ScaleResult } from './operator-scale.js';

const BUCKET = 's3://brewery-bench';
const OPERATOR_LIMIT_MIB = 512;

export interface ScaleRun {
  jobs: number;
  shards: number;
  parallelism: number;
  restSeconds: number;
  out: string;
}

export async function runScale(run: ScaleRun): Promise<void> {
  const machine = machineInfo();
  await withBenchCluster(async (cluster, dist, log) => {
    const kubernetes = await kubernetesVersion(cluster);
    await createNamespace(cluster, 'bench-scale');
    const result = await measureScale({
      cluster,
      dist,
      namespace: 'bench-scale',
      bucket: BUCKET,
      jobs: run.jobs,
      shards: run.shards,
      parallelism: run.parallelism,
      restSeconds: run.restSeconds,
      log,
    });
    const report = {
      date: new Date().toISOString(),
      machine: { ...machine, kubernetes, loadAverageAtEnd: machineInfo().loadAverage },
      nodes: cluster.nodes,
      scale: result,
    };
    print(result);
    console.log(
      `machine: ${machine.cores} cores (${machine.cpuModel}), node ${machine.node}, Kubernetes ${kubernetes}, ` +
        `load average at start ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}, ` +
        `at end ${report.machine.loadAverageAtEnd.map((l) => l.toFixed(2)).join(' ')}`,
    );
    mkdirSync(dirname(run.out), { recursive: true });
    writeFileSync(run.out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`saved ${run.out}`);
    if (result.operator.peakRssMiB > OPERATOR_LIMIT_MIB || result.statusStale.length > 0) {
      console.log(
        `MISSED: operator peak RSS ${result.operator.peakRssMiB.toFixed(0)} MiB (target < ${OPERATOR_LIMIT_MIB}), ` +
          `${result.statusStale.length} objects with stale status`,
      );
      process.exitCode = 1;
    }
  });
}

function print(r: ScaleResult): void {
  const kinds = Object.entries(r.kinds)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  console.log(
    `\noperator at scale: ${r.jobs} CaffeTrainingJobs (${kinds}); 1 ImageNetDataset of ${r.shards} shards, parallelism ${r.parallelism}`,
  );
  const rows: [string, string][] = [
    ['create calls (32 in flight)', `${r.createSeconds.toFixed(1)} s`],
    ['every job settled, status current', `${r.jobsSettledSeconds.toFixed(1)} s`],
    [`dataset Ready (${r.shards} prep pods + finalize)`, `${r.datasetReadySeconds.toFixed(1)} s`],
    [
      'work queues empty after',
      `${r.queueEmptySeconds.toFixed(1)} s (most keys waiting: ${r.maxQueueDepth})`,
    ],
    [
      'reconciles until settled',
      `${fmtCounts(r.busy.reconciles)} (${r.busy.reconcilesPerSecond.toFixed(1)}/s, ${r.busy.reconcileErrors} errors)`,
    ],
    ['reconciles per job', (r.busy.reconciles.caffetrainingjob! / r.jobs).toFixed(2)],
    ['operator API calls per reconcile', r.busy.apiCallsPerReconcile.toFixed(2)],
    ['apiserver requests, all clients', String(r.busy.apiserverRequests)],
    ['operator CPU until settled', `${r.busy.operatorCpuSeconds.toFixed(1)} s`],
    [
      `at rest (${r.rest.seconds} s): reconciles`,
      `${r.rest.reconcilesPerSecond.toFixed(1)}/s (${fmtCounts(r.rest.reconciles)})`,
    ],
    ['at rest: operator API calls', `${r.rest.apiCallsPerSecond.toFixed(1)}/s`],
    ['at rest: apiserver requests, all clients', `${r.rest.apiserverRequestsPerSecond.toFixed(1)}/s`],
    ['at rest: operator CPU', `${r.rest.operatorCpuPercent.toFixed(1)} % of a core`],
    ['status current (apiserver list)', `${r.statusCurrent} of ${r.objects}`],
    [
      'operator peak RSS (VmHWM)',
      `${r.operator.peakRssMiB.toFixed(0)} MiB (now ${r.operator.rssMiB.toFixed(0)})`,
    ],
    [
      'kube-apiserver peak RSS (VmHWM)',
      `${r.apiserver.peakRssMiB.toFixed(0)} MiB (${r.apiserver.rssBeforeMiB.toFixed(0)} before the objects)`,
    ],
  ];
  for (const [what, value] of rows) console.log(`${what.padEnd(44)} ${value}`);
  console.log(`phases: ${fmtCounts(r.phases)}`);
  console.log(`operator API calls until settled: ${fmtCounts(r.busy.apiCalls)}`);
  console.log(`operator API calls at rest: ${fmtCounts(r.rest.apiCalls)}`);
}

function fmtCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}
