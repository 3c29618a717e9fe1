// Bad input, table-driven: each case gives a BadInputError with a one-line message naming the place
// (file:line:column for text, file:byte offset for binary, the layer for a net). At the command line the
// same inputs exit with 65 (ExitCode.BadInput) and print one line, never a stack trace.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { BadInputError, ExitCode } from '../../../trainer/contract/errors.js';
import { buildNetSpec, checkWeightsMatch } from '../../../trainer/net/spec/index.js';
import {
  decodeBlobProto,
  decodeNetParameter,
  encodeNetParameter,
  Phase,
  parseNetPrototxt,
} from '../../../trainer/proto/index.js';
import { fromHex, runCli } from './support.js';

const INPUT =
  'layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 8 dim: 8 } } }\n';
const validNet = encodeNetParameter({ name: 'n', layer: [{ name: 'ip', type: 'InnerProduct' }] });

interface BadCase {
  name: string;
  run: () => unknown;
  where: RegExp;
  message: RegExp;
}

const text = (body: string) => () => parseNetPrototxt(body, 'bad.prototxt');
const spec = (body: string) => () =>
  buildNetSpec(parseNetPrototxt(body, 'bad.prototxt'), { phase: Phase.TEST, fileName: 'bad.prototxt' });

const cases: BadCase[] = [
  {
    name: 'unknown field',
    run: text('layer {\n  nme: "x" }'),
    where: /^bad\.prototxt:2:3$/,
    message: /unknown field "nme" in LayerParameter/,
  },
  {
    name: 'non-repeated field given twice',
    run: text('name: "a"\nname: "b"'),
    where: /:2:1$/,
    message: /non-repeated field "name" is specified multiple times/,
  },
  {
    name: 'message field given twice',
    run: text('layer { pooling_param { pool: MAX } pooling_param { } }'),
    where: /:1:37$/,
    message: /"pooling_param" is specified multiple times/,
  },
  {
    name: 'unknown enum name',
    run: text('layer { pooling_param { pool: MEAN } }'),
    where: /:1:31$/,
    message: /unknown value "MEAN" for enum field "pool".*known: MAX, AVE, STOCHASTIC/,
  },
  {
    name: 'unknown enum number',
    run: text('layer { phase: 7 }'),
    where: /:1:16$/,
    message: /unknown number 7 for enum field "phase"/,
  },
  {
    name: 'unterminated string',
    run: text('name: "net\nlayer {}'),
    where: /:1:7$/,
    message: /unterminated string/,
  },
  {
    name: 'bad number',
    run: text('layer { loss_weight: 1.5.2 }'),
    where: /:1:22$/,
    message: /invalid number '1\.5\.2'/,
  },
  {
    name: 'negative value for an unsigned field',
    run: text('layer { convolution_param { num_output: -96 } }'),
    where: /:1:42$/,
    message: /-96 is a negative value for unsigned field "num_output"/,
  },
  {
    name: 'int32 out of range',
    run: text('layer { accuracy_param { ignore_label: 2147483648 } }'),
    where: /:1:40$/,
    message: /out of range for field "ignore_label"/,
  },
  {
    name: 'string where a number belongs',
    run: text('layer { convolution_param { num_output: "96" } }'),
    where: /:1:41$/,
    message: /expected an integer for field "num_output", received '96'/,
  },
  {
    name: 'fraction for an integer field',
    run: text('layer { convolution_param { group: 1.5 } }'),
    where: /:1:36$/,
    message: /expected an integer for field "group", received '1\.5'/,
  },
  {
    name: 'number where a string belongs',
    run: text('name: 5'),
    where: /:1:7$/,
    message: /expected a quoted string for field "name"/,
  },
  {
    name: 'scalar without a colon',
    run: text('name "x"'),
    where: /:1:6$/,
    message: /expected ':' after field "name"/,
  },
  {
    name: 'message never closed',
    run: text('layer {\n name: "x"\n'),
    where: /:3:1$/,
    message: /expected '}' before the end of the file/,
  },
  { name: 'bad string escape', run: text('name: "a\\qb"'), where: /:1:9$/, message: /invalid escape '\\q'/ },
  {
    name: 'V0 parameter on a layer type without it',
    run: text('layers { layer { name: "r" type: "relu" num_output: 3 } }'),
    where: /: layers\[0\] \("r"\)$/,
    message: /V0 parameter num_output does not apply to layer type "relu"/,
  },
  {
    name: 'truncated binary',
    run: () => decodeNetParameter(validNet.subarray(0, validNet.length - 3), 'm.caffemodel'),
    where: /^m\.caffemodel:byte \d+$/,
    message: /layer\[0\]: truncated/,
  },
  {
    name: 'wrong wire type',
    run: () => decodeNetParameter(fromHex('0805'), 'm.caffemodel'),
    where: /:byte 0$/,
    message: /name: expected wire type 2 \(length-delimited\) for a string field, received 0 \(varint\)/,
  },
  {
    name: 'invalid wire type',
    run: () => decodeNetParameter(fromHex('0f00'), 'm.caffemodel'),
    where: /:byte 0$/,
    message: /wire type 7 \(invalid\)/,
  },
  {
    name: 'packed floats cut mid-value',
    run: () => decodeBlobProto(fromHex('2a03000000'), 'mean.binaryproto'),
    where: /^mean\.binaryproto:byte 1$/,
    message: /data\[0\]: packed float data of 3 bytes/,
  },
  {
    name: 'missing bottom blob',
    run: spec(`${INPUT}layer { name: "c" type: "ReLU" bottom: "dta" top: "c" }`),
    where: /^bad\.prototxt$/,
    message: /unknown bottom blob "dta" \(layer "c", bottom index 0\)/,
  },
  {
    name: 'pooling kernel of 0',
    run: spec(
      `${INPUT}layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { kernel_size: 0 } }`,
    ),
    where: /layer "p" \(Pooling\)$/,
    message: /\(Pooling\): pooling_param\.kernel_size: expected a positive integer, received 0$/,
  },
  {
    name: 'unknown layer type',
    run: spec(`${INPUT}layer { name: "x" type: "Convolutoin" bottom: "data" top: "x" }`),
    where: /layer "x" \(Convolutoin\)$/,
    message: /unknown layer type "Convolutoin"; known types: .*Convolution/,
  },
  {
    name: 'include and exclude together',
    run: spec(
      `${INPUT}layer { name: "r" type: "ReLU" bottom: "data" top: "data" include { phase: TEST } exclude { stage: "x" } }`,
    ),
    where: /layer "r" \(ReLU\)$/,
    message: /either include rules or exclude rules/,
  },
  {
    name: 'group that does not divide the channels',
    run: spec(
      `${INPUT}layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 4 kernel_size: 3 group: 2 } }`,
    ),
    where: /layer "c" \(Convolution\)$/,
    message: /group: 2 does not divide the 3 input channels/,
  },
  {
    name: 'weights whose shapes do not match the net',
    run: () => {
      const net = buildNetSpec(
        parseNetPrototxt(
          `${INPUT}layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }`,
          'n',
        ),
        { phase: Phase.TEST },
      );
      const weights = {
        layer: [
          {
            name: 'ip',
            blobs: [
              { shape: { dim: [3, 192] }, data: new Float32Array(576) },
              { shape: { dim: [2] }, data: new Float32Array(2) },
            ],
          },
        ],
      };
      return checkWeightsMatch(net, weights, 'w.caffemodel');
    },
    where: /^w\.caffemodel$/,
    message: /layer "ip" blob 0: shape mismatch: the net expects 2 192 \(384\), the file has 3 192 \(576\)/,
  },
];

describe('bad inputs give one-line errors that name the place', () => {
  it('has at least 15 cases', () => assert.ok(cases.length >= 15));
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(c.run, (error: unknown) => {
        assert.ok(error instanceof BadInputError, `expected a BadInputError, received ${error}`);
        assert.match(error.where ?? '', c.where);
        assert.match(error.message, c.message);
        assert.ok(!error.message.includes('\n'), `not one line: ${error.message}`);
        return true;
      });
    });
  }
});

describe('bad input at the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'brewery-proto-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  const rows: { name: string; args: () => string[]; where: string }[] = [
    {
      name: 'a prototxt with an unknown field',
      args: () => ['describe', `--model=${file('a.prototxt', 'layer { nme: "x" }')}`],
      where: 'a.prototxt:1:9',
    },
    {
      name: 'a net with a missing bottom',
      args: () => [
        'describe',
        `--model=${file('b.prototxt', `${INPUT}layer { name: "r" type: "ReLU" bottom: "nope" top: "r" }`)}`,
      ],
      where: 'b.prototxt',
    },
    {
      name: 'a truncated caffemodel',
      args: () => [
        'upgrade_net_proto_binary',
        file('c.caffemodel', validNet.subarray(0, 5)),
        join(dir, 'out'),
      ],
      where: 'c.caffemodel:byte',
    },
    {
      name: 'a missing file',
      args: () => ['describe', `--model=${join(dir, 'absent.prototxt')}`],
      where: 'absent.prototxt',
    },
    {
      name: 'weights that do not fit the net',
      args: () => {
        const model = file(
          'd.prototxt',
          `${INPUT}layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 2 } }`,
        );
        const weights = encodeNetParameter({
          layer: [{ name: 'ip', blobs: [{ shape: { dim: [2] }, data: [1, 2] }] }],
        });
        return ['describe', `--model=${model}`, `--phase=TEST`, `--weights=${file('d.caffemodel', weights)}`];
      },
      where: 'd.caffemodel',
    },
  ];
  for (const row of rows) {
    it(`${row.name}: exit 65, one line, no stack trace`, () => {
      const result = runCli(row.args());
      assert.equal(result.code, ExitCode.BadInput, result.stderr);
      const lines = result.stderr.trim().split('\n');
      const last = lines[lines.length - 1]!;
      assert.match(last, /^caffe: /);
      assert.ok(last.includes(row.where), last);
      assert.ok(!/\n\s+at /.test(result.stderr), `stack trace printed:\n${result.stderr}`);
    });
  }

  it('a usage error exits with 64, not 65', () => {
    const result = runCli(['describe', '--phase=TRAIN']);
    assert.equal(result.code, ExitCode.Usage);
    assert.match(result.stderr, /--model is required/);
  });
});
