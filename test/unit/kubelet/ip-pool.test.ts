import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { IpPool, parseIpv4 } from '../../../hack/kubelet/ip-pool.js';

describe('IpPool', () => {
  it('hands out addresses from the base, skipping host parts .0 and .255', () => {
    const pool = new IpPool('127.1.0.253');
    assert.deepEqual(
      ['a', 'b', 'c'].map((owner) => pool.allocate(owner)),
      ['127.1.0.253', '127.1.0.254', '127.1.1.1'],
    );
  });

  it('gives an owner the same address when asked again', () => {
    const pool = new IpPool('127.1.0.0');
    assert.equal(pool.allocate('pod-a'), '127.1.0.1');
    assert.equal(pool.allocate('pod-a'), '127.1.0.1');
    assert.equal(pool.allocate('pod-b'), '127.1.0.2');
  });

  it('never gives one address to two owners, and reuses released ones after wrapping', () => {
    const pool = new IpPool('127.255.255.250');
    const first = ['a', 'b', 'c', 'd'].map((o) => pool.allocate(o));
    assert.deepEqual(first, ['127.255.255.250', '127.255.255.251', '127.255.255.252', '127.255.255.253']);
    assert.equal(pool.allocate('e'), '127.255.255.254');
    assert.throws(() => pool.allocate('f'), /every address is in use/);
    pool.release('b');
    assert.equal(pool.addressOf('b'), undefined);
    assert.equal(pool.allocate('f'), '127.255.255.251');
  });

  it('reserves an address already in use so it is not handed out', () => {
    const pool = new IpPool('127.1.0.0');
    assert.equal(pool.reserve('old', '127.1.0.1'), true);
    assert.equal(pool.reserve('other', '127.1.0.1'), false);
    assert.equal(pool.allocate('new'), '127.1.0.2');
  });

  it('rejects a malformed base address, naming it', () => {
    assert.throws(() => parseIpv4('127.1.0'), /received '127.1.0'/);
    assert.throws(() => new IpPool('127.1.0.256'), /received '127.1.0.256'/);
  });
});
