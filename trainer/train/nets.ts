// The nets of a training run: the TRAIN net and the TEST nets (which use the train net's variables), each
// with its own random stream and a data loader per Data/ImageData layer. Their positions are what an exact
// resume needs besides the solverstate.
import { DataLoader, type LoaderPosition, type ShardOpenEvent } from '../data/loader.js';
import { loaderOptionsFromLayer } from '../data/loader-layer.js';
import { readText } from '../files.js';
import type { DataSource } from '../net/data-source.js';
import { dataLayerShapes, externalDataLayers } from '../net/from-file.js';
import { Net } from '../net/net.js';
import { buildNetSpec, count, type DataShapeDefaults, type NetSpec } from '../net/spec/index.js';
import { Phase, parseNetPrototxt } from '../proto/index.js';
import { Rng, type RngState } from '../rng.js';
import { LoaderDataSource } from './loader-source.js';
import { netMemoryBytes, sizeLoader } from './memory-budget.js';
import type { NetSource } from './net-sources.js';

/** Where every random stream and loader of the run stands; plain JSON. */
export interface NetsPosition {
  /** One per net: the train net first, then the test nets. */
  rngs: RngState[];
  /** `<net index>/<layer name>` → loader position. */
  loaders: Record<string, LoaderPosition>;
}

export interface BuildOptions {
  seed: number;
  dataShape?: DataShapeDefaults;
  /** Where each loader streams its S3 shards through (default: the OS temp folder). */
  cacheDir?: string;
  /** Continue from an earlier run's positions (exact resume). */
  position?: NetsPosition;
  /** Told each time one of the loaders opens a part (an LMDB shard, or a list file). */
  onShardOpen?: (event: ShardOpenEvent) => void;
  /** Skip damaged records in every net's loaders, telling this why (see LoaderOptions). */
  onDamagedRecord?: (message: string) => void;
  /** What the run may use: each loader's threads and batches in flight come from it. */
  resources?: RunResources;
  /** Told of each net's spec as it is set up (net 0 trains, the others test), before its loaders open. */
  onNetSpec?: (spec: NetSpec, source: NetSource, index: number) => void;
}

export interface RunResources {
  /** Bytes the whole process may use (the cgroup's memory limit or --memory_budget). */
  memoryBudgetBytes?: number;
  /** Decode threads per loader (the CPU quota in whole cores, --threads, or the core count). */
  threads: number;
  /** Where the sizing of each loader is told, as a log line. */
  log: (message: string) => void;
  warn: (message: string) => void;
}

export class TrainingNets {
  private constructor(
    readonly train: Net,
    readonly tests: Net[],
    private readonly rngs: Rng[],
    private readonly loaders: Map<string, LoaderDataSource>,
  ) {}

  static async build(train: NetSource, tests: NetSource[], options: BuildOptions): Promise<TrainingNets> {
    const specs = [
      await specOf(train, Phase.TRAIN, options),
      ...(await Promise.all(tests.map((t) => specOf(t, Phase.TEST, options)))),
    ];
    specs.forEach((spec, i) => {
      options.onNetSpec?.(spec, i === 0 ? train : tests[i - 1]!, i);
    });
    const rngs = specs.map((_, i) => new Rng(options.seed + i));
    const netBytes = netMemoryBytes(specs);
    const loaderCount = specs.reduce((sum, spec) => sum + externalDataLayers(spec).length, 0);
    const loaders = new Map<string, LoaderDataSource>();
    const nets: Net[] = [];
    try {
      for (const [index, spec] of specs.entries()) {
        const sources: Record<string, DataSource> = {};
        for (const layer of externalDataLayers(spec)) {
          const key = `${index}/${layer.name}`;
          const phase = index === 0 ? 'TRAIN' : 'TEST';
          const position = options.position?.loaders[key];
          const loaderOptions = loaderOptionsFromLayer(layer.param, phase, {
            seed: options.seed + index,
            ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
          });
          const sizing =
            options.resources && sizeLoaderOf(layer.topShapes, options.resources, netBytes, loaderCount);
          if (sizing)
            options.resources?.log(
              `of the ${phase} net's layer ${layer.name}: ${sizing.threads} decode threads, ` +
                `${sizing.prefetch} batches in flight`,
            );
          const loader = await DataLoader.open({
            ...loaderOptions,
            ...(sizing && { threads: sizing.threads, prefetch: sizing.prefetch }),
            ...(position ? { position } : {}),
            ...(options.onShardOpen ? { onShardOpen: options.onShardOpen } : {}),
            ...(options.onDamagedRecord ? { onDamagedRecord: options.onDamagedRecord } : {}),
          });
          const source = new LoaderDataSource(loader, layer.topShapes);
          loaders.set(key, source);
          sources[layer.name] = source;
        }
        nets.push(Net.fromSpec(spec, { rng: rngs[index]!, dataSources: sources }));
      }
    } catch (error) {
      for (const net of nets) net.dispose();
      await Promise.all([...loaders.values()].map((l) => l.close()));
      throw error;
    }
    const [trainNet, ...testNets] = nets as [Net, ...Net[]];
    for (const test of testNets) test.shareTrainedLayersWith(trainNet);
    // Fillers have drawn; a resumed run continues the streams where the snapshot left them.
    options.position?.rngs.forEach((state, i) => {
      rngs[i]?.restoreState(state);
    });
    return new TrainingNets(trainNet, testNets, rngs, loaders);
  }

  /** Whether the train net reads batches from a data loader (not DummyData or Input alone). */
  get trainReadsData(): boolean {
    return [...this.loaders.keys()].some((key) => key.startsWith('0/'));
  }

  /** Seconds the train net's data layers waited for their loaders since the last call. */
  takeTrainDataWait(): number {
    let seconds = 0;
    for (const [key, source] of this.loaders) if (key.startsWith('0/')) seconds += source.takeWaitSeconds();
    return seconds;
  }

  position(): NetsPosition {
    const loaders: Record<string, LoaderPosition> = {};
    for (const [key, source] of this.loaders) loaders[key] = source.position();
    return { rngs: this.rngs.map((r) => r.saveState()), loaders };
  }

  async dispose(): Promise<void> {
    for (const test of this.tests) test.dispose();
    this.train.dispose();
    await Promise.all([...this.loaders.values()].map((l) => l.close()));
  }
}

function sizeLoaderOf(
  topShapes: number[][],
  resources: RunResources,
  netBytes: number,
  loaders: number,
): { threads: number; prefetch: number } {
  const sizing = sizeLoader({
    budgetBytes: resources.memoryBudgetBytes,
    threads: resources.threads,
    batchBytes: count(topShapes[0] ?? []) * 4,
    netBytes,
    loaders,
  });
  if (sizing.overBudget) resources.warn(sizing.overBudget);
  return { threads: sizing.threads, prefetch: sizing.batchesInFlight };
}

async function specOf(source: NetSource, phase: number, options: BuildOptions): Promise<NetSpec> {
  const net = source.inline ?? parseNetPrototxt(await readText(source.file!), source.file);
  const state = {
    phase,
    ...(source.state.level !== undefined ? { level: source.state.level } : {}),
    stages: source.state.stage ?? [],
  };
  // --data-shape overrides what the databases' first records say.
  const recordShapes = options.dataShape ? new Map() : await dataLayerShapes(net, state, source.label);
  return buildNetSpec(net, {
    ...state,
    fileName: source.label,
    recordShapes,
    ...(options.dataShape ? { dataShape: options.dataShape } : {}),
  });
}
