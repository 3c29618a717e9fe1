#!/usr/bin/env node
// Runs the test suite with node's built-in runner over the compiled tests in dist/.
//   node hack/run-tests.js [--unit | --integration] [--repeat=N] [--load=K] [FILTER...]
// Unit tests need nothing. Integration and end-to-end tests share one local cluster per run
// (hack/cluster up, torn down at the end); without Go they are skipped with the reason, except in CI
// (CI=true), where a missing cluster is a failure.
// --repeat=N runs the chosen files N times on the one cluster and stops at the first failure; --load=K
// keeps K CPU-bound processes busy beside them. Together they show whether a test depends on the
// machine's speed before it is called reliable: `node hack/run-tests.js --repeat=10 --load=2 FILTER`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const args = process.argv.slice(2);
const only = args.includes('--unit') ? 'unit' : args.includes('--integration') ? 'integration' : 'all';
const filters = args.filter((a) => !a.startsWith('--'));
const countFlag = (name, fallback) => {
  const raw = args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name}: expected a whole number, received '${raw}'`);
    process.exit(64);
  }
  return n;
};
const repeat = Math.max(1, countFlag('repeat', 1));
const load = countFlag('load', 0);

function findTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const needsCluster = (file) => /[/\\](integration|e2e)[/\\]/.test(file);
// A compiled test whose .ts is gone (deleted or renamed since the last build) is never run: dist/ is not
// cleaned by every build, and a stale test would pass or fail for code that no longer exists.
const hasSource = (file) =>
  existsSync(join(root, relative(join(root, 'dist'), file)).replace(/\.js$/, '.ts'));
const files = findTests(join(root, 'dist'))
  .filter(hasSource)
  .filter((f) => only === 'all' || (only === 'unit') !== needsCluster(f))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error('no test files found under dist/: run `npm run build` first');
  process.exit(1);
}

// The tests, and the cluster they start, run on the Node.js Brewery runs on (hack/with-node: the
// machine's when it is new enough, else the one `npm run setup` installed), whichever node runs this.
const withNode = spawnSync(join(root, 'hack/with-node'), ['--bin'], { encoding: 'utf8', stdio: 'pipe' });
if (withNode.status !== 0) {
  console.error(withNode.stderr.trim());
  process.exit(1);
}
const nodeBin = withNode.stdout.trim();
const env = { ...process.env, PATH: `${nodeBin}${delimiter}${process.env.PATH}` };
let clusterDir;
if (files.some(needsCluster) && !env.BREWERY_CLUSTER_ENV) {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) {
    const reason = 'Go is not installed, so the local cluster cannot be built (see README, Prerequisites)';
    if (env.CI === 'true') {
      console.error(`integration tests cannot run in CI: ${reason}`);
      process.exit(1);
    }
    env.BREWERY_SKIP_INTEGRATION = reason;
  } else {
    clusterDir = join(root, '.brewery', 'test-cluster');
    env.BREWERY_CLUSTER_DIR = clusterDir;
    const up = spawnSync(join(root, 'hack/cluster'), ['up'], { env, stdio: 'inherit' });
    if (up.status !== 0) {
      console.error('hack/cluster up failed: the integration tests cannot run');
      spawnSync(join(root, 'hack/cluster'), ['down'], { env, stdio: 'inherit' });
      process.exit(1);
    }
    env.BREWERY_CLUSTER_ENV = join(clusterDir, 'env.json');
  }
}

console.log(
  `running ${files.length} test files: ${files.map((f) => relative(join(root, 'dist'), f)).join(' ')}`,
);
// The CPU hogs: plain busy loops at normal priority, so they compete with the tests for every core.
const hogs = Array.from({ length: load }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
);
if (load > 0) console.log(`${load} CPU-bound processes run beside the tests`);

let status = 0;
for (let round = 1; round <= repeat && status === 0; round++) {
  if (repeat > 1) console.log(`\n=== round ${round} of ${repeat}`);
  const run = await runNodeTest(files);
  status = run ?? 1;
  if (repeat > 1) console.log(`=== round ${round} of ${repeat}: ${status === 0 ? 'passed' : 'FAILED'}`);
}
for (const hog of hogs) hog.kill('SIGKILL');
if (clusterDir) spawnSync(join(root, 'hack/cluster'), ['down'], { env, stdio: 'inherit' });
process.exit(status);

/** node --test over the files, one file at a time; resolves with its exit code. */
function runNodeTest(testFiles) {
  const child = spawn(
    join(nodeBin, 'node'),
    ['--test', '--test-concurrency=1', '--test-reporter=spec', ...testFiles],
    { env, stdio: 'inherit', cwd: root },
  );
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}
