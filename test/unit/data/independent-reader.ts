// Reads LMDB Datum records and binaryproto files with code that shares nothing with ours: Debian's
// python3-lmdb (the LMDB C library Caffe links) and a protobuf wire decoder written here from the
// Datum and BlobProto field tables. Tests compare its view with what our writers meant to write.
import { spawnSync } from 'node:child_process';

export interface IndependentDatum {
  key: string;
  channels: number;
  height: number;
  width: number;
  label: number;
  encoded: boolean;
  data: Buffer;
}

export interface IndependentBlob {
  num: number;
  channels: number;
  height: number;
  width: number;
  data: number[];
}

const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import base64, json, struct, sys

def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]; i += 1
        value |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return value, i

def fields(buf):
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value = buf[i:i + 8]; i += 8
        elif wire == 2:
            size, i = varint(buf, i)
            value = buf[i:i + size]; i += size
        elif wire == 5:
            value = buf[i:i + 4]; i += 4
        else:
            raise ValueError('wire type %d' % wire)
        yield number, wire, value

def datum(key, buf):
    out = {'key': key.decode(), 'channels': 0, 'height': 0, 'width': 0, 'label': 0, 'encoded': False, 'data': ''}
    names = {1: 'channels', 2: 'height', 3: 'width', 5: 'label'}
    for number, wire, value in fields(buf):
        if number in names and wire == 0:
            out[names[number]] = value
        elif number == 4 and wire == 2:
            out['data'] = base64.b64encode(value).decode()
        elif number == 7 and wire == 0:
            out['encoded'] = bool(value)
    return out

def blob(buf):
    out = {'num': 0, 'channels': 0, 'height': 0, 'width': 0, 'data': []}
    names = {1: 'num', 2: 'channels', 3: 'height', 4: 'width'}
    for number, wire, value in fields(buf):
        if number in names and wire == 0:
            out[names[number]] = value
        elif number == 5 and wire == 2:
            out['data'].extend(struct.unpack('<%df' % (len(value) // 4), value))
        elif number == 5 and wire == 5:
            out['data'].append(struct.unpack('<f', value)[0])
    return out

if sys.argv[1] == 'raw':
    import lmdb
    env = lmdb.open(sys.argv[2], readonly=True, lock=False)
    with env.begin() as txn:
        for key, value in txn.cursor():
            print(json.dumps({'key': key.decode(), 'value': base64.b64encode(value).decode()}))
elif sys.argv[1] == 'write':
    import lmdb
    env = lmdb.open(sys.argv[2], map_size=1 << 30)
    with env.begin(write=True) as txn:
        for i in range(int(sys.argv[3])):
            txn.put(b'%08d' % i, bytes([(i * 7) % 256]) * ((i * 37) % 9000))
    env.close()
elif sys.argv[1] == 'lmdb':
    import lmdb
    for path in sys.argv[2:]:
        env = lmdb.open(path, readonly=True, lock=False)
        with env.begin() as txn:
            for key, value in txn.cursor():
                print(json.dumps(datum(key, value)))
        env.close()
else:
    with open(sys.argv[2], 'rb') as f:
        print(json.dumps(blob(f.read())))
`;

/** Why the independent reader cannot run here, or undefined when it can. */
export function independentReaderMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import lmdb'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} is not installed`;
  if (probe.status !== 0) return 'python3-lmdb is not installed (apt-get install -y python3-lmdb)';
  return undefined;
}

/** The skip option for node:test: a reason outside CI, never in CI (there a missing reader fails). */
export function skipUnlessIndependentReader(): string | false {
  const missing = independentReaderMissing();
  if (!missing) return false;
  if (process.env.CI === 'true') throw new Error(`the independent LMDB reader is required in CI: ${missing}`);
  return missing;
}

export function readDatumsIndependently(lmdbDirs: string[]): IndependentDatum[] {
  const out = run(['lmdb', ...lmdbDirs]);
  return out
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const row = JSON.parse(line) as Omit<IndependentDatum, 'data'> & { data: string };
      return { ...row, data: Buffer.from(row.data, 'base64') };
    });
}

/** Raw key/value pairs of one LMDB, read by python3-lmdb. */
export function readRawIndependently(lmdbDir: string): { key: string; value: Buffer }[] {
  return run(['raw', lmdbDir])
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const row = JSON.parse(line) as { key: string; value: string };
      return { key: row.key, value: Buffer.from(row.value, 'base64') };
    });
}

/** Writes `count` records with python3-lmdb: key '%08d' % i, value bytes([(i*7)%256]) * ((i*37)%9000). */
export function writeLmdbIndependently(lmdbDir: string, count: number): void {
  run(['write', lmdbDir, String(count)]);
}

export function readBlobIndependently(file: string): IndependentBlob {
  return JSON.parse(run(['blob', file])) as IndependentBlob;
}

function run(args: string[]): string {
  const result = spawnSync(PYTHON, ['-c', SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`independent reader failed: ${result.stderr}`);
  return result.stdout;
}
