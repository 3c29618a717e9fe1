// The Node.js the project runs on: hack/lib/versions.sh pins it, package.json's engines asks for its
// line, and hack/run-tests.js starts these tests on it (through hack/with-node) whatever node ran npm.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

describe('Node.js version', () => {
  it('package.json engines asks for the line hack/lib/versions.sh pins, and the tests run on it', async () => {
    const versions = await readFile(`${repo}hack/lib/versions.sh`, 'utf8');
    const pinned = /^NODE_VERSION=(\d+)\.(\d+)\.(\d+)$/m.exec(versions);
    assert.ok(pinned, 'hack/lib/versions.sh pins no NODE_VERSION=major.minor.patch');
    const engines = JSON.parse(await readFile(`${repo}package.json`, 'utf8')).engines?.node as string;
    const minimum = /^>=(\d+)(?:\.(\d+))?$/.exec(engines ?? '');
    assert.ok(minimum, `package.json engines.node: expected >=major[.minor], received ${engines}`);
    assert.equal(minimum[1], pinned[1], 'engines and versions.sh name different majors');
    assert.ok(
      Number(pinned[2]) >= Number(minimum[2] ?? 0),
      'the pinned release is older than engines allows',
    );

    const [major, minor] = process.versions.node.split('.').map(Number);
    assert.ok(
      major! > Number(minimum[1]) || (major === Number(minimum[1]) && minor! >= Number(minimum[2] ?? 0)),
      `the tests run on Node.js ${process.version}; package.json asks for ${engines}`,
    );
  });
});
