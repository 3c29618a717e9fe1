import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { runSize } from '../../../trainer/cli/resource-flags.js';
import { UsageError } from '../../../trainer/contract/errors.js';

describe('runSize', () => {
  it('takes the cgroup CPU quota (rounded up) and memory limit when no flag is given', () => {
    assert.deepEqual(runSize({}, { cores: 1.5, memoryBytes: 2 ** 30 }, 32), {
      threads: 2,
      memoryBudgetBytes: 2 ** 30,
      description: '2 threads (cgroup CPU quota 1.5), memory budget 1024 MiB (cgroup memory limit)',
    });
  });
  it('lets --threads and --memory_budget override the cgroup', () => {
    const size = runSize({ threads: '3', memoryBudget: '900Mi' }, { cores: 1, memoryBytes: 2 ** 30 }, 32);
    assert.equal(size.threads, 3);
    assert.equal(size.memoryBudgetBytes, 900 * 2 ** 20);
    assert.equal(
      size.description,
      '3 threads (--threads; cgroup CPU quota 1), memory budget 900 MiB (--memory_budget; cgroup memory limit 1024 MiB)',
    );
  });
  it('without cgroup limits uses the cores and no budget', () => {
    assert.deepEqual(runSize({}, {}, 32), {
      threads: 32,
      description: '32 threads (cores), no memory limit',
    });
  });
  it('refuses a bad --threads or --memory_budget, naming the flag', () => {
    assert.throws(
      () => runSize({ threads: '0' }, {}),
      (e: Error) => e instanceof UsageError && /--threads/.test(e.message),
    );
    assert.throws(
      () => runSize({ memoryBudget: '4 GB' }, {}),
      (e: Error) => e instanceof UsageError && /--memory_budget/.test(e.message),
    );
  });
});
