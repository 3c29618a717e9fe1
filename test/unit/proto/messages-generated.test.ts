// trainer/proto/messages.ts is generated from our caffe.proto (hack/gen-messages.ts): the committed file
// is what the schema gives today, and a change to the schema changes the types.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import protobuf from 'protobufjs';

import { renderMessages } from '../../../hack/gen-messages.js';
import { CAFFE_PROTO } from '../../../trainer/proto/caffe-proto.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../../..');

describe('the generated message types', () => {
  it('are the committed trainer/proto/messages.ts', async () => {
    const committed = await readFile(join(root, 'trainer/proto/messages.ts'), 'utf8');
    assert.equal(renderMessages(), committed, 'run `npm run gen:messages`');
  });

  it('follow the schema: a field added to the .proto appears in its interface', () => {
    const changed = CAFFE_PROTO.replace(
      /message Datum \{/,
      'message Datum {\n  optional string source_uri = 100;\n  repeated uint32 crop = 101;',
    );
    assert.notEqual(changed, CAFFE_PROTO);
    const text = renderMessages(protobuf.parse(changed).root);
    const datum = /export interface Datum \{[^}]*\}/.exec(text)?.[0] ?? '';
    assert.match(datum, /\n {2}sourceUri\?: string;\n/);
    assert.match(datum, /\n {2}crop\?: number\[\];\n/);
  });
});
