import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseFlags, parseNodeFlag } from '../../../hack/kubelet/flags.js';
import { parseImageMap } from '../../../hack/kubelet/image-map.js';

describe('parseNodeFlag', () => {
  it('reads the name and resources, filling in defaults', () => {
    assert.deepEqual(parseNodeFlag('local-0:cpu=4,memory=8Gi,nvidia.com/gpu=1'), {
      name: 'local-0',
      capacity: { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi', 'nvidia.com/gpu': '1' },
    });
  });
  it('takes pods from the flag', () => {
    assert.equal(parseNodeFlag('n:pods=12').capacity.pods, '12');
  });
  const bad: Array<[string, RegExp]> = [
    ['Local_0:cpu=1', /node name.*'Local_0'/],
    ['n:cpu', /expected resource=quantity, received 'cpu'/],
    ['n:memory=lots', /quantity.*memory, received 'lots'/],
  ];
  for (const [text, error] of bad) {
    it(`rejects ${text}`, () => assert.throws(() => parseNodeFlag(text), error));
  }
});

describe('parseFlags', () => {
  const required = [
    '--kubeconfig=/k',
    '--state-dir=/s',
    '--port=10250',
    '--tls-cert-file=/c',
    '--tls-private-key-file=/key',
    '--image-map=/m.json',
  ];
  it('reads every flag, several --node flags and the default pod IP base', () => {
    const flags = parseFlags([...required, '--node=a:cpu=1', '--node', 'b:cpu=2']);
    assert.deepEqual(
      flags.nodes.map((n) => [n.name, n.capacity.cpu]),
      [
        ['a', '1'],
        ['b', '2'],
      ],
    );
    assert.equal(flags.port, 10250);
    assert.equal(flags.podIpBase, '127.1.0.0');
    assert.equal(flags.tlsKeyFile, '/key');
  });
  it('requires a node', () => assert.throws(() => parseFlags(required), /at least one --node/));
  it('rejects an unknown flag', () =>
    assert.throws(() => parseFlags([...required, '--nodes=a']), /unknown flag --nodes/));
  it('rejects a node given twice', () =>
    assert.throws(() => parseFlags([...required, '--node=a', '--node=a:cpu=2']), /'a' is given twice/));
});

describe('parseImageMap', () => {
  it('reads entrypoints and binaries', () => {
    const map = parseImageMap(
      '{"images": {"x/*": {"entrypoint": ["node", "/a.js"], "binaries": {"caffe": ["node"]}}}}',
      'm.json',
    );
    assert.deepEqual(map.images['x/*'], { entrypoint: ['node', '/a.js'], binaries: { caffe: ['node'] } });
  });
  it('names the file and field of a mistake', () => {
    assert.throws(
      () => parseImageMap('{"images": {"x": {"entrypoint": "node"}}}', 'm.json'),
      /m\.json: field images\.x\.entrypoint/,
    );
    assert.throws(() => parseImageMap('{', 'm.json'), /m\.json: expected JSON/);
  });
});
