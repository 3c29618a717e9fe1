// Loads TensorFlow's native binding (@tensorflow/tfjs-node or -node-gpu), which registers the
// `tensorflow` backend. Looked up in the project's node_modules first, then in the cache that
// `npm run setup:native` fills (its package's install script downloads libtensorflow, which is
// blocked here, so the setup builds it from a Python wheel instead).

import { existsSync, realpathSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type NativeVariant = 'gpu' | 'cpu';

const packageOf: Record<NativeVariant, string> = {
  gpu: '@tensorflow/tfjs-node-gpu',
  cpu: '@tensorflow/tfjs-node',
};

/**
 * The provisioned package folder `npm run setup:native` points at:
 * ${BREWERY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brewery}/native/current (as hack/lib/versions.sh).
 */
export function nativeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(breweryCache(env), 'native', 'current');
}

/** Where `npm run setup:gpu` (hack/native/setup-gpu.sh) points: .../brewery/gpu/current. */
export function gpuCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(breweryCache(env), 'gpu', 'current');
}

function breweryCache(env: NodeJS.ProcessEnv): string {
  return env.BREWERY_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'brewery');
}

/**
 * Requires the binding package. Returns where it came from, or throws with every place tried and
 * why each failed (the loader's own error is the useful part: a missing .so, an ABI mismatch). The
 * GPU package is looked for in setup:gpu's cache before setup:native's.
 */
export function loadNativeBinding(variant: NativeVariant, env: NodeJS.ProcessEnv = process.env): string {
  const name = packageOf[variant];
  const caches = variant === 'gpu' ? [gpuCacheDir(env), nativeCacheDir(env)] : [nativeCacheDir(env)];
  const places = [
    { label: 'node_modules', cacheDir: undefined, require: createRequire(import.meta.url) },
    ...caches
      .filter((dir) => existsSync(join(dir, 'node_modules', name)))
      .map((dir) => ({ label: dir, cacheDir: dir, require: createRequire(join(dir, 'package.json')) })),
  ];
  const failures: string[] = [];
  enableOneDnn();
  for (const place of places) {
    try {
      const cacheDir = place.cacheDir === undefined ? undefined : realpathSync(place.cacheDir);
      withBindingImports(cacheDir, () => place.require(name));
      return `${name} from ${place.label}`;
    } catch (error) {
      failures.push(`${place.label}: ${firstLine(error)}`);
    }
  }
  throw new Error(`${name} is not loadable (${failures.join('; ')})`);
}

/**
 * Turns on TensorFlow's oneDNN kernels for the CPU unless the user chose (TF_ENABLE_ONEDNN_OPTS=0 keeps
 * them off). Left unset, TensorFlow turns them on only on CPUs with AVX-512 VNNI, BF16 or AMX
 * (tensorflow/core/util/util.cc, IsMKLEnabled; TensorFlow 2.9's release notes), so on an AVX2 machine
 * its convolutions, pooling and matrix products ran on Eigen: CaffeNet's forward-backward at batch 10
 * took 1.65 s there against 1.29 s with oneDNN (trainer/backend/README.md). TensorFlow reads the
 * variable once, when the library loads, so it is set before the binding is required.
 */
function enableOneDnn(): void {
  process.env.TF_ENABLE_ONEDNN_OPTS ??= '1';
}

/**
 * Resolves two of the binding's imports while it loads. Its `require('util')` gets tfjs-node-util.ts
 * (Node's util with the helpers tfjs-node 4.22 still calls, which Node 23 removed). And the cached
 * package comes with its own copy of tfjs: two copies share one engine but register every kernel twice
 * (a screenful of warnings) and double the load, so its tfjs imports resolve to the project's copy (the
 * same 4.22 release, pinned in setup).
 */
function withBindingImports<T>(cacheDir: string | undefined, load: () => T): T {
  const projectRequire = createRequire(import.meta.url);
  const loader = Module as unknown as {
    _resolveFilename: (request: string, parent?: { filename?: string }, ...rest: unknown[]) => string;
  };
  const resolve = loader._resolveFilename;
  loader._resolveFilename = function (request, parent, ...rest) {
    const from = parent?.filename ?? '';
    if (request === 'util' && tfjsNodeFile.test(from)) return tfjsNodeUtil;
    if (cacheDir && sharedTfjs.test(request) && from.startsWith(cacheDir))
      return projectRequire.resolve(request);
    return resolve.call(this, request, parent, ...rest);
  };
  try {
    return load();
  } finally {
    loader._resolveFilename = resolve;
  }
}

const tfjsNodeFile = /[/\\]@tensorflow[/\\]tfjs-node(-gpu)?[/\\]/;
const tfjsNodeUtil = fileURLToPath(new URL('./tfjs-node-util.js', import.meta.url));
const sharedTfjs = /^@tensorflow\/tfjs(-core|-backend-cpu|-backend-webgl|-layers|-converter|-data)?(\/.*)?$/;

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
