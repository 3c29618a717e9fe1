// Real BVLC Caffe, built from source into a cache outside the repository, as the oracle of the
// parity tests (test/unit/parity/real-caffe-*.test.ts) and the reference column of
// hack/bench/trainer.ts. `npm run setup` builds it when
// CAFFE_REFERENCE names the folder of its build script (see README, "Parity with real Caffe"); the
// build writes an env.sh (PATH, LD_LIBRARY_PATH, PYTHONPATH, GLOG_*) beside a `.done` marker.
// Brewery's own code never calls it; only those tests and that benchmark do.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CaffeReference {
  /** The build's environment, added to this process's, for running its tools. */
  env: NodeJS.ProcessEnv;
  /** Runs one of its tools (`caffe`, `convert_imageset`, ...); throws with its stderr when it fails. */
  run(tool: string, args: string[], options?: { cwd?: string }): { stdout: string; stderr: string };
}

/** The newest complete build: $CAFFE_REF_ENV (an env.sh), else the newest `.done` under the cache. */
function envFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CAFFE_REF_ENV) return existsSync(env.CAFFE_REF_ENV) ? env.CAFFE_REF_ENV : undefined;
  const cache = env.CAFFE_REF_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'caffe-ref');
  if (!existsSync(cache)) return undefined;
  const builds = readdirSync(cache)
    .map((name) => join(cache, name))
    .filter((dir) => existsSync(join(dir, '.done')) && existsSync(join(dir, 'env.sh')))
    .sort((a, b) => statSync(join(b, '.done')).mtimeMs - statSync(join(a, '.done')).mtimeMs);
  return builds[0] && join(builds[0], 'env.sh');
}

/** The environment env.sh sets up, as bash computes it. */
function sourced(file: string): NodeJS.ProcessEnv {
  const out = execFileSync('bash', ['-c', 'set -a; source "$1"; env -0', 'env', file], { encoding: 'utf8' });
  return Object.fromEntries(
    out
      .split('\0')
      .filter((entry) => entry.includes('='))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

let found: CaffeReference | undefined | null = null;

/** Real Caffe, or undefined when no build is at hand (the tests then skip, saying why). */
export function caffeReference(): CaffeReference | undefined {
  if (found !== null) return found;
  const file = envFile();
  if (!file) {
    found = undefined;
    return found;
  }
  const env = sourced(file);
  found = {
    env,
    run(tool, args, options = {}) {
      const result = spawnSync(tool, args, { env, encoding: 'utf8', cwd: options.cwd, maxBuffer: 1 << 28 });
      if (result.status !== 0) {
        throw new Error(`real Caffe's ${tool} ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
      }
      return { stdout: result.stdout, stderr: result.stderr };
    },
  };
  return found;
}

/** Why the parity tests skip (and the benchmark leaves out its column), or undefined when real Caffe is at hand. */
export function caffeReferenceMissing(): string | undefined {
  return caffeReference()
    ? undefined
    : 'real Caffe is not built (set CAFFE_REFERENCE to its build script folder and run npm run setup)';
}
