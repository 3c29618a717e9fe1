// Helpers shared by the proto and models tests: where the repo and the compiled `caffe` command are,
// and a way to run the command as a user would.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The build folder these tests were compiled into (dist/ or a helper's dist-<name>/). */
export const distRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
export const repoRoot = resolve(distRoot, '..');
export const cliPath = join(distRoot, 'trainer/cli/main.js');

export function modelFile(relative: string): string {
  return join(repoRoot, 'trainer/models', relative);
}

export function readModel(relative: string): string {
  return readFileSync(modelFile(relative), 'utf8');
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[]): CliResult {
  const result = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', cwd: repoRoot });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}
