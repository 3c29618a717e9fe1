// Paths of the helm and prometheus binaries the tests run, from the cache hack/build-tools fills. A
// missing one is built once (several minutes cold), so a test run never depends on a PATH lookup.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Tool = 'helm' | 'prometheus';

function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('test/support/tools: no package.json above this file');
    dir = parent;
  }
  return dir;
}

const buildTools = () => join(repositoryRoot(), 'hack/build-tools');

/** The folder hack/build-tools keeps a tool's binaries in (whether or not it is built yet). */
export function toolDir(tool: Tool): string {
  return execFileSync(buildTools(), ['path', tool], { encoding: 'utf8' }).trim();
}

/** The path of a tool's binary, building it with hack/build-tools first when it is not cached. */
export function toolPath(tool: Tool): string {
  const dir = toolDir(tool);
  if (!existsSync(join(dir, '.complete'))) {
    execFileSync(buildTools(), [tool], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const binary = join(dir, tool);
  if (!existsSync(binary)) {
    throw new Error(`hack/build-tools ${tool}: expected ${binary} after the build, found nothing`);
  }
  return binary;
}
