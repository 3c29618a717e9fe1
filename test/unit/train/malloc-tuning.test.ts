// When `caffe train` relaunches itself with glibc's malloc tuned.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MALLOC_TUNING, mallocTuningEnv } from '../../../trainer/train/malloc-tuning.js';

describe('mallocTuningEnv', () => {
  it('raises both thresholds on Linux when asked to and neither is set', () => {
    assert.deepEqual(mallocTuningEnv({ PATH: '/bin', BREWERY_MALLOC_TUNING: 'on' }, 'linux'), {
      MALLOC_MMAP_THRESHOLD_: '4294967296',
      MALLOC_TRIM_THRESHOLD_: '4294967296',
    });
  });
  it('leaves a value someone set alone, which also stops a second relaunch', () => {
    const on = { BREWERY_MALLOC_TUNING: 'on' };
    assert.equal(mallocTuningEnv({ ...on, MALLOC_MMAP_THRESHOLD_: '1048576' }, 'linux'), undefined);
    assert.equal(mallocTuningEnv({ ...on, ...MALLOC_TUNING }, 'linux'), undefined);
  });
  it('does nothing by default (it costs memory at large batches), off Linux, or when turned off', () => {
    assert.equal(mallocTuningEnv({}, 'linux'), undefined);
    assert.equal(mallocTuningEnv({ BREWERY_MALLOC_TUNING: 'on' }, 'darwin'), undefined);
    assert.equal(mallocTuningEnv({ BREWERY_MALLOC_TUNING: 'off' }, 'linux'), undefined);
  });
});
