// What a training job's pod is made from, read from the cluster: whether its dataset is Ready and
// where its shards and mean are, and the net and solver prototxts (inline, a ConfigMap key or a
// built-in model), rendered into the effective prototxts.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { CaffeTrainingJobSpec } from '../api/caffe-training-job.js';
import { DATASETS } from '../dataset/controller.js';
import { outputPrefix } from '../dataset/jobs.js';
import { findCondition } from '../runtime/conditions.js';
import type { KubeClient } from '../runtime/kube-client.js';
import { CONFIG_MAPS } from '../workloads.js';
import type { DataState, TrainingInput } from './decide.js';
import { type DataLocations, type PrototxtText, renderPrototxts } from './render.js';

/** The dataset's state and where its shards and mean are; or the job's explicit data. */
export async function dataFor(
  client: KubeClient,
  namespace: string,
  spec: CaffeTrainingJobSpec,
): Promise<{ state: DataState; locations: DataLocations }> {
  if (spec.data) {
    const { trainSource, valSource, meanFile } = spec.data;
    return {
      state: { ready: true },
      locations: {
        train: trainSource,
        ...(valSource ? { val: valSource } : {}),
        ...(meanFile ? { mean: meanFile } : {}),
      },
    };
  }
  if (!spec.dataset) return { state: { ready: true }, locations: {} };
  const name = spec.dataset.name;
  const dataset = await client.get(DATASETS, namespace, name);
  if (!dataset) {
    return {
      state: { ready: false, reason: 'DatasetNotFound', message: `ImageNetDataset ${name} does not exist` },
      locations: {},
    };
  }
  const status = (dataset.status ?? {}) as {
    phase?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
  if (status.phase !== 'Ready') {
    const ready = findCondition(status.conditions as never, 'Ready');
    return {
      state: {
        ready: false,
        reason: 'DatasetNotReady',
        message: `waiting for ImageNetDataset ${name}: it is ${status.phase ?? 'new'}${ready ? ` (${ready.message})` : ''}`,
      },
      locations: {},
    };
  }
  const out = outputPrefix((dataset.spec ?? {}) as never);
  return {
    state: { ready: true },
    locations: { train: `${out}/train`, val: `${out}/val`, mean: `${out}/mean.binaryproto` },
  };
}

export async function prototxtsFor(
  client: KubeClient,
  namespace: string,
  spec: CaffeTrainingJobSpec,
  data: DataLocations,
): Promise<TrainingInput['prototxts']> {
  try {
    const solver = await prototxtText(client, namespace, spec.solver, 'solver', 'solver.prototxt');
    if ('error' in solver) return solver;
    const netSource = spec.net ?? (spec.solver.builtin ? { builtin: spec.solver.builtin } : undefined);
    if (!netSource) {
      return {
        error:
          'spec.net is required unless the solver is builtin: the trainer cannot read the net file the solver names',
        badInput: true,
      };
    }
    const net = await prototxtText(client, namespace, netSource, 'net', 'train_val.prototxt');
    if ('error' in net) return net;
    return renderPrototxts(spec, net, solver, data);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error), badInput: true };
  }
}

type PrototxtSource = NonNullable<CaffeTrainingJobSpec['net']>;

async function prototxtText(
  client: KubeClient,
  namespace: string,
  source: PrototxtSource,
  what: string,
  builtinFile: string,
): Promise<PrototxtText | { error: string; badInput: boolean }> {
  if (source.inline !== undefined) return { text: source.inline, where: `spec.${what}.inline` };
  if (source.configMapKeyRef) {
    const { name, key } = source.configMapKeyRef;
    const configMap = await client.get(CONFIG_MAPS, namespace, name);
    const text = (configMap?.data as Record<string, string> | undefined)?.[key];
    if (text === undefined) {
      const missing = configMap ? `has no key ${key}` : 'does not exist';
      return { error: `spec.${what}.configMapKeyRef: ConfigMap ${name} ${missing}`, badInput: false };
    }
    return { text, where: `ConfigMap ${name} key ${key}` };
  }
  const model = source.builtin ?? '';
  const file = join(modelsFolder(), model, builtinFile);
  if (!existsSync(file)) {
    return {
      error: `spec.${what}.builtin: no built-in model ${model} (no ${builtinFile} for it)`,
      badInput: true,
    };
  }
  return { text: readFileSync(file, 'utf8'), where: `builtin ${model}/${builtinFile}` };
}

/** trainer/models of the package, found from this module whether it runs from dist or from source. */
function modelsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package.json above the operator: cannot find trainer/models');
    dir = parent;
  }
  return join(dir, 'trainer', 'models');
}
