import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  followingPart,
  planShards,
  SHARDS_ON_DISK,
  type ShardPlan,
  type ShardPlanInput,
} from '../../../trainer/data/shard-prefetch.js';

const plans: { name: string; input: ShardPlanInput; plan: ShardPlan }[] = [
  {
    name: 'at the start nothing is held: the part to read downloads first, then the one after it',
    input: { reading: 0, following: 1, held: [] },
    plan: { evict: [], fetch: [0, 1] },
  },
  {
    name: 'a part opened from its prefetched copy starts the download of the one after it',
    input: { reading: 1, following: 2, held: [1] },
    plan: { evict: [], fetch: [2] },
  },
  {
    name: 'a part just finished is deleted while the next one stays',
    input: { reading: undefined, following: 2, held: [1, 2] },
    plan: { evict: [1], fetch: [] },
  },
  {
    name: 'a part just finished that is also read next (one shard, or the same part across the epoch wrap) stays',
    input: { reading: undefined, following: 0, held: [0] },
    plan: { evict: [], fetch: [] },
  },
  {
    name: 'a wrongly guessed next part is deleted before the part to read downloads',
    input: { reading: 3, following: undefined, held: [2] },
    plan: { evict: [2], fetch: [3] },
  },
  {
    name: 'without prefetch only the part being read is held',
    input: { reading: 1, following: undefined, held: [1] },
    plan: { evict: [], fetch: [] },
  },
  {
    name: 'reading the only shard keeps it and fetches nothing more',
    input: { reading: 0, following: 0, held: [0] },
    plan: { evict: [], fetch: [] },
  },
  {
    name: 'a following part downloaded but not yet reached is kept, and nothing is fetched twice',
    input: { reading: 4, following: 0, held: [4, 0] },
    plan: { evict: [], fetch: [] },
  },
];

for (const { name, input, plan } of plans) {
  test(`planShards: ${name}`, () => {
    const got = planShards(input);
    assert.deepEqual(got, plan);
    // Whatever was held, after the plan is carried out at most two parts are.
    const after = new Set([...input.held.filter((p) => !got.evict.includes(p)), ...got.fetch]);
    assert.ok(after.size <= SHARDS_ON_DISK, `${[...after]} held`);
  });
}

test('planShards never holds more than two parts on a walk through three epochs of five shards', () => {
  const order = [0, 1, 2, 3, 4];
  let held: number[] = [];
  let most = 0;
  for (let step = 0; step < 15; step++) {
    const at = step % order.length;
    const reading = order[at]!;
    const following = followingPart(order, at, order);
    // As the loader does: before opening a part, once it is open, and once it is finished.
    const steps: Omit<ShardPlanInput, 'held'>[] = [
      { reading, following: undefined },
      { reading, following },
      { reading: undefined, following },
    ];
    for (const step of steps) {
      const input = { ...step, held };
      const plan = planShards(input);
      held = [...held.filter((p) => !plan.evict.includes(p)), ...plan.fetch];
      // Fetches start only after evictions, so this count is also the most held in between.
      most = Math.max(most, held.length);
      if (input.reading !== undefined) assert.ok(held.includes(input.reading));
    }
    assert.deepEqual(held, [following], `after part ${reading}`);
  }
  assert.equal(most, SHARDS_ON_DISK);
});

test('followingPart: the next in this epoch, then the first of the next epoch, unknown without its order', () => {
  assert.equal(followingPart([2, 0, 1], 0, undefined), 0);
  assert.equal(followingPart([2, 0, 1], 1, [1, 2, 0]), 1);
  assert.equal(followingPart([2, 0, 1], 2, [1, 2, 0]), 1);
  assert.equal(followingPart([2, 0, 1], 2, undefined), undefined);
  assert.equal(followingPart([0], 0, [0]), 0);
});
