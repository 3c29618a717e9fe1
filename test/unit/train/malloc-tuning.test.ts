// When `caffe train` relaunches itself with glibc's malloc tuned.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MALLOC_TUNING, mallocTuningEnv } from '../../../trainer/train/malloc-tuning.js';

describe('mallocTuningEnv', () => {
  it('raises both thresholds on Linux when neither is set', () => {
    assert.deepEqual(mallocTuningEnv({ PATH: '/bin' }, 'linux'), {
      MALLOC_MMAP_THRESHOLD_: '4294967296',
      MALLOC_TRIM_THRESHOLD_: '4294967296',
    });
  });
  it('leaves a value someone set alone, which also stops a second relaunch', () => {
    assert.equal(mallocTuningEnv({ MALLOC_MMAP_THRESHOLD_: '1048576' }, 'linux'), undefined);
    assert.equal(mallocTuningEnv({ ...MALLOC_TUNING }, 'linux'), undefined);
  });
  it('does nothing off Linux or when turned off', () => {
    assert.equal(mallocTuningEnv({}, 'darwin'), undefined);
    assert.equal(mallocTuningEnv({ BREWERY_MALLOC_TUNING: 'off' }, 'linux'), undefined);
  });
});
