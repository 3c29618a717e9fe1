import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DockerIgnore } from './dockerignore.js';

// The cases are the examples of Docker's .dockerignore documentation.
describe('DockerIgnore', () => {
  it('keeps * and ? within one path segment', () => {
    const ignore = new DockerIgnore('*/temp*\n*/*/temp*\ntemp?\n');
    assert.equal(ignore.excludes('somedir/temporary.txt'), true);
    assert.equal(ignore.excludes('somedir/temp'), true);
    assert.equal(ignore.excludes('somedir/subdir/temporary.txt'), true);
    assert.equal(ignore.excludes('tempa'), true);
    assert.equal(ignore.excludes('tempab'), false);
    assert.equal(ignore.excludes('temporary.txt'), false);
    assert.equal(ignore.excludes('a/b/c/temp.txt'), false);
  });

  it('lets ** span any number of folders, none included', () => {
    const ignore = new DockerIgnore('**/*.go\n');
    assert.equal(ignore.excludes('main.go'), true);
    assert.equal(ignore.excludes('cmd/x/main.go'), true);
    assert.equal(ignore.excludes('cmd/x/main.ts'), false);
  });

  it('lets the last matching pattern win, ! letting a path back in', () => {
    const ignore = new DockerIgnore('# markdown\n*.md\n!README*.md\nREADME-secret.md\n');
    assert.equal(ignore.excludes('CHANGES.md'), true);
    assert.equal(ignore.excludes('README.md'), false);
    assert.equal(ignore.excludes('README-secret.md'), true);
  });

  it('applies a pattern that matches a folder to everything in it', () => {
    const ignore = new DockerIgnore('*\n!trainer\n/.git/\n');
    assert.equal(ignore.excludes('trainer/models/lenet/solver.prototxt'), false);
    assert.equal(ignore.excludes('test/unit/a.ts'), true);
    assert.equal(ignore.excludes('.git/HEAD'), true);
    assert.equal(ignore.excludes('./trainer/contract/errors.ts'), false);
  });
});
