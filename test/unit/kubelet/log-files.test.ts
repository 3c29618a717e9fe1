import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { LogWriter, readLogTail, TIME_WIDTH, timesPathOf } from '../../../hack/kubelet/log-files.js';
import { parseLogQuery, streamLog } from '../../../hack/kubelet/log-server.js';

const dir = mkdtempSync(join(tmpdir(), 'kubelet-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeLog(name: string, chunks: Array<[string, string]>): string {
  const path = join(dir, name);
  let second = 0;
  const writer = new LogWriter(path, () => new Date(Date.UTC(2026, 10, 28, 5, 0, second++)));
  for (const [stream, text] of chunks) writer.write(stream, Buffer.from(text));
  writer.close();
  return path;
}

async function read(path: string, query: Partial<Parameters<typeof streamLog>[1]>): Promise<string> {
  const parts: Buffer[] = [];
  await streamLog(
    path,
    { follow: false, previous: false, timestamps: false, ...query },
    (c) => parts.push(c),
    () => false,
  );
  return Buffer.concat(parts).toString();
}

describe('LogWriter', () => {
  it('writes whole lines from each stream, keeping partial lines apart, with one time per line', () => {
    const path = writeLog('a.log', [
      ['stdout', 'out-1\nout-'],
      ['stderr', 'err-1\n'],
      ['stdout', '2\n'],
      ['stderr', 'no newline'],
    ]);
    assert.equal(readFileSync(path, 'utf8'), 'out-1\nerr-1\nout-2\nno newline\n');
    const times = readFileSync(timesPathOf(path), 'latin1');
    assert.equal(times.length, 4 * TIME_WIDTH);
    assert.equal(times.split('\n')[0], '2026-11-28T05:00:00.000000000Z');
  });
});

describe('streamLog', () => {
  const path = writeLog('b.log', [['stdout', 'one\ntwo\nthree\nfour\n']]);
  const cases: Array<[string, Partial<Parameters<typeof streamLog>[1]>, string]> = [
    ['the whole log', {}, 'one\ntwo\nthree\nfour\n'],
    ['the last two lines', { tailLines: 2 }, 'three\nfour\n'],
    ['more lines than there are', { tailLines: 10 }, 'one\ntwo\nthree\nfour\n'],
    ['no lines', { tailLines: 0 }, ''],
    ['at most 6 bytes', { limitBytes: 6 }, 'one\ntw'],
    [
      'tail with timestamps of those lines',
      { tailLines: 1, timestamps: true },
      '2026-11-28T05:00:00.000000000Z four\n',
    ],
  ];
  for (const [name, query, expected] of cases) {
    it(name, async () => assert.equal(await read(path, query), expected));
  }
  it('timestamps follow the lines they were written with', async () => {
    const spaced = writeLog('c.log', [
      ['stdout', 'a\n'],
      ['stdout', 'b\nc\n'],
    ]);
    assert.equal(
      await read(spaced, { timestamps: true }),
      '2026-11-28T05:00:00.000000000Z a\n2026-11-28T05:00:01.000000000Z b\n2026-11-28T05:00:01.000000000Z c\n',
    );
  });
});

describe('parseLogQuery', () => {
  it('reads the flags and numbers the apiserver passes', () => {
    assert.deepEqual(
      parseLogQuery(new URLSearchParams('follow=true&tailLines=5&limitBytes=100&previous=true')),
      {
        follow: true,
        previous: true,
        timestamps: false,
        tailLines: 5,
        limitBytes: 100,
      },
    );
  });
  it('rejects a malformed number', () => {
    assert.match(
      String(parseLogQuery(new URLSearchParams('tailLines=-1'))),
      /tailLines: expected a whole number/,
    );
  });
});

describe('readLogTail', () => {
  it('takes the last lines, at most the given bytes', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const path = writeLog('d.log', [['stdout', lines]]);
    assert.equal(readLogTail(path, 2, 2048), 'line 98\nline 99');
    assert.equal(readLogTail(path, 80, 10), '98\nline 99');
  });
});
