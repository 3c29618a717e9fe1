// Shared steps of the operator's integration tests: load the generated CRDs into the local cluster,
// and make a namespace of one's own.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { LocalCluster } from '../../support/cluster.js';

export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** The generated CRD files. Missing files are a failure, not a skip: run `npm run gen:crds`. */
export function crdFiles(): string[] {
  const dir = join(repositoryRoot(), 'crds');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')) : [];
  if (files.length === 0) throw new Error(`no CRDs in ${dir}: run \`npm run gen:crds\``);
  return files.map((f) => join(dir, f));
}

export const CRD_NAMES = ['imagenetdatasets.caffe.brewery.dev', 'caffetrainingjobs.caffe.brewery.dev'];

/** Applies crds/ (server-side, so every test file may do it) and waits until both are Established. */
export async function installCrds(cluster: LocalCluster): Promise<void> {
  const args = ['apply', '--server-side', '--force-conflicts', '--field-manager=brewery-tests'];
  for (const file of crdFiles()) args.push('-f', file);
  await cluster.kubectl(args);
  await cluster.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...CRD_NAMES.map((n) => `crd/${n}`),
  ]);
}

/** A fresh namespace for one test file; delete it with the returned function. */
export async function makeNamespace(
  cluster: LocalCluster,
  prefix: string,
): Promise<[string, () => Promise<void>]> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await cluster.kubectl(['create', 'namespace', name]);
  return [name, async () => void (await cluster.kubectl(['delete', 'namespace', name, '--wait=false']))];
}

/** Polls until check returns a value (not undefined), or fails with the last thing it saw. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${last ?? 'no value'})`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
