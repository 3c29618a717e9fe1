// Storage on S3 and S3-compatible servers (client settings: s3-config.ts). Large objects go up as multipart
// uploads, which S3 shows only once complete.
// One retry layer per call path: every request (GET, PUT, each multipart part, list pages, HEAD, DELETE)
// is retried by the SDK alone (s3-config.ts: maxAttempts, standard mode, which backs off on throttling and
// 5xx and leaves 4xx alone); the SDK cannot retry a body that breaks after its response arrived, so ours
// (readBody) covers only that. A refused credential is bad input (refused.ts) and is tried once.

import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

import { retry } from '../contract/retry.js';
import { explainRefusal, isRefusedCredentials } from './refused.js';
import { BODY_RETRY, isRetryable } from './retry.js';
import { parseS3Uri, s3ConfigFromEnv } from './s3-config.js';
import type { Body, ObjectInfo, Storage } from './storage.js';

/** Part size of multipart uploads; S3's minimum is 5 MiB. */
const PART_SIZE = 16 * 1024 * 1024;
const PARALLEL_PARTS = 4;

export class S3Storage implements Storage {
  constructor(private readonly client: S3Client = new S3Client(s3ConfigFromEnv())) {}

  async readStream(uri: string): Promise<Readable> {
    const { bucket, key } = parseS3Uri(uri);
    const out = await this.refusalExplained(bucket, () =>
      this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
    );
    return out.Body as Readable;
  }

  read(uri: string): Promise<Buffer> {
    return this.readBody(`read ${uri}`, uri, (body) => buffer(body));
  }

  async write(uri: string, body: Body): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    await this.refusalExplained(bucket, () =>
      new Upload({
        client: this.client,
        params: { Bucket: bucket, Key: key, Body: body },
        partSize: PART_SIZE,
        queueSize: PARALLEL_PARTS,
        leavePartsOnError: false,
      }).done(),
    );
  }

  async putFile(localPath: string, uri: string, options: { move?: boolean } = {}): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    await this.refusalExplained(bucket, () =>
      new Upload({
        client: this.client,
        params: { Bucket: bucket, Key: key, Body: createReadStream(localPath) },
        partSize: PART_SIZE,
        queueSize: PARALLEL_PARTS,
        leavePartsOnError: false,
      }).done(),
    );
    if (options.move) await unlink(localPath);
  }

  async getFile(uri: string, localPath: string): Promise<void> {
    await mkdir(dirname(localPath), { recursive: true });
    const temp = `${localPath}.tmp-brewery-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await this.readBody(`download ${uri}`, uri, (body) => pipeline(body, createWriteStream(temp)));
      await rename(temp, localPath);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async list(prefixUri: string): Promise<ObjectInfo[]> {
    const { bucket, key } = parseS3Uri(prefixUri);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.refusalExplained(bucket, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) out.push({ uri: `s3://${bucket}/${object.Key}`, size: object.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async *walk(prefixUri: string): AsyncIterable<string> {
    const { bucket, key } = parseS3Uri(prefixUri);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    let token: string | undefined;
    do {
      // S3 lists keys in UTF-8 byte order, a page of up to 1,000 at a time.
      const page = await this.refusalExplained(bucket, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        ),
      );
      for (const object of page.Contents ?? []) if (object.Key) yield `s3://${bucket}/${object.Key}`;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async names(folderUri: string): Promise<string[]> {
    const base = folderUri.endsWith('/') ? folderUri : `${folderUri}/`;
    return (await this.list(folderUri))
      .map((object) => object.uri.slice(base.length))
      .filter((name) => name.length > 0 && !name.includes('/'));
  }

  async stat(uri: string): Promise<ObjectInfo | undefined> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { uri, size: head.ContentLength ?? 0 };
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (error as Error).name === 'NotFound') return undefined;
      throw isRefusedCredentials(error) ? explainRefusal(error, bucket, await this.endpoint()) : error;
    }
  }

  async delete(uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    await this.refusalExplained(bucket, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })),
    );
  }

  /** `call`'s result; a refused credential becomes bad input naming the bucket and the endpoint. */
  private async refusalExplained<T>(bucket: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw isRefusedCredentials(error) ? explainRefusal(error, bucket, await this.endpoint()) : error;
    }
  }

  /** Where the client sends its requests, for messages: the custom endpoint, or AWS's own. */
  private async endpoint(): Promise<string> {
    const endpoint = await this.client.config.endpoint?.();
    if (!endpoint) return `AWS S3 (${await this.client.config.region()})`;
    const port = endpoint.port ? `:${endpoint.port}` : '';
    return `${endpoint.protocol}//${endpoint.hostname}${port}${endpoint.path === '/' ? '' : endpoint.path}`;
  }

  /**
   * `consume` of the object's body, started again when the body breaks after its response arrived: the
   * SDK has retried the request itself, but not a body that drops half-way.
   */
  private readBody<T>(what: string, uri: string, consume: (body: Readable) => Promise<T>): Promise<T> {
    const brokenBodies = new WeakSet<object>();
    const attempt = async () => {
      const body = await this.readStream(uri);
      try {
        return await consume(body);
      } catch (error) {
        if (error instanceof Object) brokenBodies.add(error);
        throw error;
      }
    };
    return retry(what, attempt, {
      ...BODY_RETRY,
      retryable: (error) => brokenBodies.has(error as object) && isRetryable(error),
    });
  }
}
