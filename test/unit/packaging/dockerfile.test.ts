// The Dockerfile, checked without a Docker engine: its stages and copies, the users and entry points of
// the images, and the production-only install they make, run here the same way.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { ancestry, parseDockerfile, type Stage } from './dockerfile-model.js';
import { DockerIgnore } from './dockerignore.js';

/** The compiled tree this test runs from (dist/ or a dist-<name>/), and the repository above it. */
const compiledRoot = fileURLToPath(new URL('../../../', import.meta.url));
const repo = findRepo(compiledRoot);

const FINAL_STAGES = ['operator', 'trainer', 'trainer-cpu'] as const;
const ENTRY_MODULES: Record<(typeof FINAL_STAGES)[number], string> = {
  operator: 'operator/main',
  trainer: 'trainer/cli/main',
  'trainer-cpu': 'trainer/cli/main',
};
/** Where the images keep the package (package.json, node_modules, dist). */
const APP = '/app';

let stages: Stage[] = [];
let ignore: DockerIgnore;
/** node:<major>-...: the Node.js images the Debian stages start from, the major hack/lib/versions.sh pins. */
let nodeImage: RegExp;

before(async () => {
  const versions = await readFile(path.join(repo, 'hack/lib/versions.sh'), 'utf8');
  const major = /^NODE_VERSION=(\d+)\./m.exec(versions)?.[1];
  assert.ok(major, 'hack/lib/versions.sh pins no NODE_VERSION');
  nodeImage = new RegExp(`^node:${major}[-.\\w]*$`);
  stages = parseDockerfile(await readFile(path.join(repo, 'Dockerfile'), 'utf8'));
  ignore = new DockerIgnore(await readFile(path.join(repo, '.dockerignore'), 'utf8'));
});

function stage(name: string): Stage {
  const found = stages.find((s) => s.name === name);
  assert.ok(found, `the Dockerfile has no stage ${name}; it has ${stages.map((s) => s.name).join(', ')}`);
  return found;
}

/** The image a stage is built on at the bottom of its FROM chain. */
function baseImage(name: string): string {
  return ancestry(stages, name).at(-1)?.base ?? '';
}

describe('Dockerfile', () => {
  it('has the three targets, each on the Node.js base (a build argument) with its compute', () => {
    for (const name of FINAL_STAGES) stage(name);
    for (const name of FINAL_STAGES) assert.match(baseImage(name), nodeImage, `${name}'s base`);
    // The GPU trainer's binding comes from hack/native/setup-gpu.sh (PyPI's tensorflow and nvidia-*-cu12
    // wheels), copied from its own stage; no CUDA base image and no install-script download.
    const gpu = ancestry(stages, 'trainer').flatMap((s) => s.copies);
    const binding = gpu.find((c) => c.from === 'gpu-native');
    assert.ok(binding, 'the GPU trainer copies nothing from the gpu-native stage');
    assert.match(stage('gpu-native').runs.join('\n'), /setup-gpu\.sh/, 'gpu-native runs setup-gpu.sh');
  });

  it('builds every stage on the Node.js major the project pins (hack/lib/versions.sh)', () => {
    for (const { name } of stages) assert.match(baseImage(name), nodeImage, `stage ${name}'s base`);
  });

  it('copies from the build context only files that exist and .dockerignore lets in', async () => {
    let checked = 0;
    for (const { name, copies } of stages) {
      for (const copy of copies.filter((c) => c.from === undefined)) {
        for (const source of copy.sources) {
          const where = `Dockerfile line ${copy.line} (stage ${name}): COPY ${source}`;
          const file = path.join(repo, source);
          const info = await stat(file).catch(() => undefined);
          assert.ok(info, `${where}: no such file or folder in the repository`);
          assert.ok(!ignore.excludes(source), `${where}: .dockerignore leaves it out of the build context`);
          if (info.isDirectory()) {
            const inside = (await filesUnder(file)).map((f) =>
              path.relative(repo, f).split(path.sep).join('/'),
            );
            assert.ok(
              inside.some((f) => !ignore.excludes(f)),
              `${where}: .dockerignore leaves out every file in it`,
            );
          }
          checked++;
        }
      }
    }
    assert.ok(checked >= 5, `expected the Dockerfile to copy its sources from the context, found ${checked}`);
  });

  it('copies --from only stages defined above the copy', () => {
    for (const { name, copies } of stages) {
      for (const copy of copies.filter((c) => c.from !== undefined)) {
        const source = stages.find((s) => s.name === copy.from);
        assert.ok(source, `Dockerfile line ${copy.line} (stage ${name}): --from=${copy.from} names no stage`);
        assert.ok(
          source.line < copy.line,
          `Dockerfile line ${copy.line}: stage ${copy.from} is defined below it`,
        );
      }
    }
  });

  it('runs each image as a numeric non-root user (so runAsNonRoot can verify it)', () => {
    for (const name of FINAL_STAGES) {
      const user = ancestry(stages, name).find((s) => s.user !== undefined)?.user;
      assert.ok(user, `stage ${name} sets no USER: it would run as root`);
      const match = /^(\d+)(?::(\d+))?$/.exec(user);
      assert.ok(match, `stage ${name}: expected USER uid[:gid] as numbers, received '${user}'`);
      assert.notEqual(Number(match[1]), 0, `stage ${name} runs as root (USER ${user})`);
    }
  });

  it('starts each image under tini, with an entry module that tsc builds', () => {
    const build = stage('build');
    for (const name of FINAL_STAGES) {
      const entrypoint = ancestry(stages, name).find((s) => s.entrypoint)?.entrypoint;
      assert.ok(entrypoint, `stage ${name} has no ENTRYPOINT in exec form`);
      const [init, separator, node, script] = entrypoint;
      assert.match(
        init ?? '',
        /\/tini$/,
        `stage ${name}: tini must be PID 1, received ${entrypoint.join(' ')}`,
      );
      assert.equal(separator, '--');
      assert.equal(node, 'node');
      const module = ENTRY_MODULES[name];
      assert.equal(script, `${APP}/dist/${module}.js`, `stage ${name} runs the wrong module`);
      assert.ok(existsSync(path.join(repo, `${module}.ts`)), `${module}.ts: no such source`);
      assert.ok(existsSync(path.join(compiledRoot, `${module}.js`)), `tsc did not produce ${module}.js`);
      const top = module.split('/')[0] ?? '';
      assert.ok(
        build.copies.some((c) => c.from === undefined && c.sources.some((s) => s.replace(/\/$/, '') === top)),
        `the build stage does not copy ${top}/, so tsc cannot build ${module}.ts there`,
      );
      assert.ok(
        build.runs.some((r) => /\btsc\b.*-p tsconfig\.json/.test(r)),
        'the build stage runs no tsc -p tsconfig.json',
      );
    }
  });

  it('gives every image the built-in models, and the trainers `caffe` on PATH', () => {
    for (const name of FINAL_STAGES) {
      const copies = ancestry(stages, name).flatMap((s) => s.copies);
      assert.ok(
        copies.some((c) => c.sources.includes('trainer/models') && /trainer\/models\/?$/.test(c.destination)),
        `stage ${name} does not copy trainer/models beside package.json`,
      );
      assert.ok(
        copies.some((c) => c.sources.includes('package.json')),
        `stage ${name} has no package.json (the models are found relative to it)`,
      );
      if (name !== 'operator') {
        assert.ok(
          copies.some((c) => c.destination === '/usr/local/bin/caffe'),
          `stage ${name} puts no caffe on PATH`,
        );
      }
    }
    assert.match(
      stage('build').runs.join('\n'),
      /exec \/usr\/bin\/tini -- node \/app\/dist\/trainer\/cli\/main\.js/,
    );
  });

  it('installs production dependencies only, and takes nothing but dist and caffe from the build', () => {
    for (const name of FINAL_STAGES) {
      const installs = npmInstalls(installStage(name));
      assert.ok(installs.length > 0, `the node_modules of ${name} come from no npm install`);
      for (const command of installs) {
        assert.match(command, /--omit=dev/, `stage ${name}: '${command}' would install devDependencies`);
      }
      for (const copy of ancestry(stages, name).flatMap((s) => s.copies)) {
        if (copy.from !== 'build') continue;
        for (const source of copy.sources) {
          assert.ok(
            source === `${APP}/dist` || source === `${APP}/caffe`,
            `stage ${name}, line ${copy.line}: copies ${source} from the build stage, which has devDependencies`,
          );
        }
      }
    }
  });
});

describe('the production install (npm ci --omit=dev)', () => {
  let folder = '';
  let skipReason: string | undefined;
  let pkg: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> } = {};

  before(async () => {
    pkg = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8'));
    folder = await mkdtemp(path.join(tmpdir(), 'brewery-prod-install-'));
    await copyFile(path.join(repo, 'package.json'), path.join(folder, 'package.json'));
    await copyFile(path.join(repo, 'package-lock.json'), path.join(folder, 'package-lock.json'));
    const result = await run(
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
      folder,
    );
    if (result.code !== 0) {
      if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network/i.test(result.stderr)) {
        skipReason = `npm cannot reach the registry, so the install was not checked: ${firstLine(result.stderr)}`;
        console.log(`# skipped: ${skipReason}`);
      } else {
        assert.fail(`npm ci --omit=dev failed (exit ${result.code}):\n${result.stderr}`);
      }
    }
  });
  after(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('leaves out every devDependency', async (t) => {
    if (skipReason) return t.skip(skipReason);
    const lock = JSON.parse(await readFile(path.join(folder, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; dependencies?: Record<string, string> }>;
    };
    const devNames = Object.keys(pkg.devDependencies ?? {});
    for (const expected of ['typescript', '@biomejs/biome', '@types/node'])
      assert.ok(devNames.includes(expected), `${expected} is not a devDependency in package.json`);
    for (const name of devNames) {
      const entry = lock.packages[`node_modules/${name}`];
      const installed = existsSync(path.join(folder, 'node_modules', name));
      if (entry?.dev) {
        assert.ok(!installed, `${name} is a devDependency but was installed`);
        continue;
      }
      // Also needed at run time by a production package (protobufjs lists @types/node): npm keeps it.
      const neededBy = Object.entries(lock.packages)
        .filter(([key, p]) => key !== '' && !p.dev && p.dependencies?.[name] !== undefined)
        .map(([key]) => key.replace(/^.*node_modules\//, ''));
      assert.ok(neededBy.length > 0, `${name} is installed though no production package needs it`);
      t.diagnostic(`${name} stays: production packages depend on it (${neededBy.join(', ')})`);
    }
    const devOnly = Object.entries(lock.packages).filter(
      ([key, p]) => key.startsWith('node_modules/') && p.dev,
    );
    const leaked = devOnly.filter(([key]) => existsSync(path.join(folder, key))).map(([key]) => key);
    assert.deepEqual(leaked, [], 'packages the lockfile marks dev-only were installed');
    assert.ok(devOnly.length > 0, 'the lockfile marks no package dev-only');
  });

  it("resolves every third-party import of the operator's and the trainer's entry modules", async (t) => {
    if (skipReason) return t.skip(skipReason);
    const entries = [...new Set(Object.values(ENTRY_MODULES))].map((m) => path.join(compiledRoot, `${m}.js`));
    const specifiers = await thirdPartyImports(entries);
    for (const expected of ['@kubernetes/client-node', '@tensorflow/tfjs', 'vega', 'sharp'])
      assert.ok(specifiers.includes(expected), `expected the entry modules to import ${expected}`);
    const script = path.join(folder, 'resolve-imports.mjs');
    await writeFile(
      script,
      'const out = {};\n' +
        'for (const s of process.argv.slice(2)) {\n' +
        '  try { out[s] = import.meta.resolve(s); } catch (e) { out[s] = "unresolved: " + e.message; }\n' +
        '}\n' +
        'console.log(JSON.stringify(out));\n',
    );
    const result = await run(process.execPath, [script, ...specifiers], folder);
    assert.equal(result.code, 0, result.stderr);
    const resolved = JSON.parse(result.stdout) as Record<string, string>;
    const modules = pathToFileURL(path.join(folder, 'node_modules')).href;
    for (const specifier of specifiers) {
      assert.ok(
        resolved[specifier]?.startsWith(`${modules}/`),
        `${specifier}: expected to resolve in the production node_modules, received ${resolved[specifier]}`,
      );
    }
  });
  // Runs after the test above: it uninstalls, in the same folder, what the operator's image leaves out.
  it("the operator's install leaves out what only the trainer loads, and resolves every import of the operator", async (t) => {
    if (skipReason) return t.skip(skipReason);
    const uninstall = stage('operator-deps')
      .runs.map((run) => run.replace(/\\\s*\n/g, ' '))
      .flatMap((run) => run.split(/&&|;|\n/))
      .map((command) => command.trim())
      .find((command) => /^npm uninstall\b/.test(command));
    assert.ok(uninstall, 'the operator-deps stage runs no npm uninstall');
    assert.equal(
      installStage('operator').name,
      'operator-deps',
      'the operator takes its node_modules elsewhere',
    );
    const args = uninstall.split(/\s+/).slice(1);
    const removed = args.filter((a) => !a.startsWith('-') && a !== 'uninstall');
    for (const expected of [
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-core',
      'sharp',
      'vega',
      '@aws-sdk/client-s3',
    ])
      assert.ok(removed.includes(expected), `the operator's image keeps ${expected}`);
    for (const name of removed)
      assert.ok(pkg.dependencies?.[name], `${name} is not a production dependency in package.json`);
    const result = await run('npm', args, folder);
    assert.equal(result.code, 0, result.stderr);
    for (const name of removed)
      assert.ok(!existsSync(path.join(folder, 'node_modules', name)), `${name} is still installed`);
    const specifiers = await thirdPartyImports([path.join(compiledRoot, `${ENTRY_MODULES.operator}.js`)]);
    assert.ok(specifiers.includes('@kubernetes/client-node'), 'expected the operator to import client-node');
    const script = path.join(folder, 'resolve-imports.mjs');
    const resolved = await run(process.execPath, [script, ...specifiers], folder);
    assert.equal(resolved.code, 0, resolved.stderr);
    const modules = pathToFileURL(path.join(folder, 'node_modules')).href;
    for (const [specifier, url] of Object.entries(JSON.parse(resolved.stdout) as Record<string, string>)) {
      assert.ok(url.startsWith(`${modules}/`), `${specifier}: the operator cannot load it: ${url}`);
    }
  });
});

/** The stage that made a final stage's node_modules: one it copies them from, or itself. */
function installStage(name: string): Stage {
  for (const current of ancestry(stages, name)) {
    const copy = current.copies.find((c) => c.from && /node_modules\/?$/.test(c.destination));
    if (copy?.from) return stage(copy.from);
    if (npmInstalls(current).length > 0) return current;
  }
  assert.fail(`stage ${name} gets its node_modules from nowhere`);
}

/** The `npm ci` and `npm install` commands a stage (and the stages below it) runs. */
function npmInstalls(from: Stage): string[] {
  return ancestry(stages, from.name)
    .flatMap((s) => s.runs)
    .flatMap((run) => run.split(/&&|;|\n/))
    .map((command) => command.replace(/\\\s*$/, '').trim())
    .filter((command) => /^npm (ci|install|i)\b/.test(command));
}

/** Bare specifiers imported, statically or by import('…'), from the entries and every module they reach. */
async function thirdPartyImports(entries: string[]): Promise<string[]> {
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[\w*{}\s,$]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
  ];
  const seen = new Set<string>();
  const bare = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop() ?? '';
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        const specifier = match[1] ?? '';
        if (specifier.startsWith('.')) queue.push(path.resolve(path.dirname(file), specifier));
        else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier)) bare.add(specifier);
      }
    }
  }
  return [...bare].sort();
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

function run(command: string, args: string[], cwd: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, args, { cwd, timeout: 300_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function findRepo(from: string): string {
  let dir = path.resolve(from);
  while (!existsSync(path.join(dir, 'Dockerfile')) || !existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no repository with a Dockerfile above ${from}`);
    dir = parent;
  }
  return dir;
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim().length > 0) ?? text;
}
