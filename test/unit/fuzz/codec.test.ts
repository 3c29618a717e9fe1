// The native codec's fuzzing runs in a child process (codec-harness.ts), so an abort or a crash in C
// fails this test with the harness's report instead of taking the test runner down.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const harness = fileURLToPath(new URL('./codec-harness.js', import.meta.url));

test('damaged JPEGs decode, or fail as bad input naming the image or record, with no abort or hang', () => {
  const run = spawnSync(process.execPath, [harness], { encoding: 'utf8', timeout: 300_000 });
  const report = `${run.stdout}\n${run.stderr}`;
  assert.equal(
    run.signal,
    null,
    `the harness was killed by ${run.signal} (an abort, or a hang past 300 s):\n${report}`,
  );
  assert.equal(run.status, 0, report);
  assert.match(run.stdout, /codec fuzz: passed/);
});
