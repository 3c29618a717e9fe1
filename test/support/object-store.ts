// An S3-compatible object server for integration tests: the local cluster's (named by the JSON file in
// BREWERY_CLUSTER_ENV), or else Versity's S3 gateway started here on a free loopback port, over a
// temporary folder, with fresh random keys, and stopped after. Either checks SigV4 signatures.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';

export interface ObjectStore {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The AWS_* variables a child process (or this one) needs to reach the server. */
  env: Record<string, string>;
  /** Creates the bucket if needed and returns its URI, `s3://name`. */
  bucket(name: string): Promise<string>;
  stop(): Promise<void>;
}

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');

export async function objectStore(): Promise<ObjectStore> {
  const described = process.env.BREWERY_CLUSTER_ENV;
  if (described) {
    const json = JSON.parse(readFileSync(described, 'utf8')) as Record<string, unknown>;
    const vars = (json.env ?? json) as Record<string, string>;
    return connect(vars, async () => {});
  }
  return startVersitygw();
}

/** Why no object server can be had here, or undefined; in CI a missing server throws instead. */
export function objectStoreMissing(): string | undefined {
  if (process.env.BREWERY_CLUSTER_ENV) return undefined;
  const reason = versitygwPath()
    ? undefined
    : 'no object server: versitygw is not built (run hack/build-tools s3)';
  if (reason && process.env.CI === 'true') throw new Error(reason);
  return reason;
}

function versitygwPath(): string | undefined {
  try {
    const dir = execFileSync(join(repoRoot, 'hack/build-tools'), ['path', 's3'], { encoding: 'utf8' }).trim();
    const binary = join(dir, 'versitygw');
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

async function startVersitygw(): Promise<ObjectStore> {
  const binary = versitygwPath();
  if (!binary) throw new Error('versitygw is not built: run hack/build-tools s3');
  const dir = mkdtempSync(join(tmpdir(), 'brewery-s3-'));
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'iam'));
  const port = await freePort();
  const vars = {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: `brewery-test-${randomBytes(4).toString('hex')}`,
    AWS_SECRET_ACCESS_KEY: randomBytes(20).toString('hex'),
    AWS_REGION: 'us-east-1',
  };
  const child: ChildProcess = spawn(
    binary,
    [
      '--port',
      `127.0.0.1:${port}`,
      '--access',
      vars.AWS_ACCESS_KEY_ID,
      '--secret',
      vars.AWS_SECRET_ACCESS_KEY,
      '--region',
      vars.AWS_REGION,
      '--iam-dir',
      join(dir, 'iam'),
      '--quiet',
      'posix',
      join(dir, 'data'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const store = await connect(vars, stop);
  const client = clientFor(store);
  for (let i = 0; ; i++) {
    try {
      await client.send(new ListBucketsCommand({}));
      break;
    } catch (error) {
      if (i >= 100 || child.exitCode !== null) {
        await stop();
        throw new Error(`versitygw did not start on port ${port}: ${(error as Error).message}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return store;
}

async function connect(vars: Record<string, string>, stop: () => Promise<void>): Promise<ObjectStore> {
  const store: ObjectStore = {
    endpoint: vars.AWS_ENDPOINT_URL!,
    accessKeyId: vars.AWS_ACCESS_KEY_ID!,
    secretAccessKey: vars.AWS_SECRET_ACCESS_KEY!,
    region: vars.AWS_REGION ?? 'us-east-1',
    env: {
      AWS_ENDPOINT_URL: vars.AWS_ENDPOINT_URL!,
      AWS_ACCESS_KEY_ID: vars.AWS_ACCESS_KEY_ID!,
      AWS_SECRET_ACCESS_KEY: vars.AWS_SECRET_ACCESS_KEY!,
      AWS_REGION: vars.AWS_REGION ?? 'us-east-1',
    },
    async bucket(name) {
      try {
        await clientFor(store).send(new CreateBucketCommand({ Bucket: name }));
      } catch (error) {
        const known = ['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'];
        if (!known.includes((error as Error).name)) throw error;
      }
      return `s3://${name}`;
    },
    stop,
  };
  return store;
}

function clientFor(store: ObjectStore): S3Client {
  return new S3Client({
    endpoint: store.endpoint,
    forcePathStyle: true,
    region: store.region,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  });
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
