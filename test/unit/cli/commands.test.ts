// The CLI loads only the file of the command it runs: each listed name must be what its file
// registers, and every registered command must be listed (or `caffe NAME` would not find it).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

import { allCommands } from '../../../trainer/cli/command.js';
import { COMMAND_FILES, loadCommands } from '../../../trainer/cli/commands/index.js';
import { CAFFE_MAIN as CAFFE } from '../../support/tiny-net.js';

const COMMANDS_INDEX = new URL('../../../trainer/cli/commands/index.js', import.meta.url).href;

test('every listed command is registered by its file, and every registered command is listed', async () => {
  for (const [name, load] of Object.entries(COMMAND_FILES)) {
    await load();
    assert.ok(
      allCommands().some((c) => c.name === name),
      `${name}: its file registers no such command`,
    );
  }
  await loadCommands(['help']);
  assert.deepEqual(
    allCommands()
      .map((c) => c.name)
      .sort(),
    Object.keys(COMMAND_FILES).sort(),
  );
});

test('caffe imagenet prep starts without TensorFlow.js; help lists every command', () => {
  // TensorFlow.js makes its engine, a global, when it is first imported.
  const probe = (argv: string[]) => `
    const { loadCommands } = await import(${JSON.stringify(COMMANDS_INDEX)});
    await loadCommands(${JSON.stringify(argv)});
    console.log(globalThis._tfengine === undefined ? 'without' : 'with');
  `;
  const loads = (argv: string[]) => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe(argv)], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return run.stdout.trim();
  };
  assert.equal(loads(['imagenet', 'prep', '--train=x']), 'without');
  assert.equal(loads(['train', '--solver=x']), 'with', 'the probe must see TensorFlow.js when it is loaded');
  const help = spawnSync(process.execPath, [CAFFE, 'help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  for (const name of Object.keys(COMMAND_FILES)) assert.match(help.stdout, new RegExp(`^  ${name} `, 'm'));
  const unknown = spawnSync(process.execPath, [CAFFE, 'trian'], { encoding: 'utf8' });
  assert.equal(unknown.status, 64);
  assert.match(unknown.stderr, /unknown command 'trian'; known commands: classify,/);
});
