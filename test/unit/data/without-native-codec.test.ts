// The image paths without the native codec (sharp and JavaScript loops, what runs where it is not
// built) must pass the same checks: the codec and OpenCV tests, run again with it turned off.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

test('codec and OpenCV checks pass with BREWERY_CODEC_ADDON=none', () => {
  const files = ['codec.test.js', 'opencv-images.test.js'].map((f) => join(here, f));
  // Without the runner's own context variable, the child reports as a top-level run (TAP on stdout).
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...files], {
    env: { ...env, BREWERY_CODEC_ADDON: 'none' },
    encoding: 'utf8',
  });
  const failed = run.stdout.split('\n').filter((line) => /^\s*not ok/.test(line));
  assert.equal(run.status, 0, `${failed.join('\n')}\n${run.stdout.slice(-3000)}${run.stderr}`);
  assert.match(run.stdout, /# pass [1-9]/);
  assert.match(run.stdout, /ok \d+ - the bilinear resize equals cv2.resize/);
});
