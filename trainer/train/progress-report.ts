// Sends the live status record to the operator (`caffe train --progress-url=...`): an HTTPS POST with
// the pod's projected service-account token as the bearer, trusting only the CA the operator published
// for it. The token file is read for every report, so a token the kubelet rotates is picked up.
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';

import type { Body } from '../storage/index.js';

export interface ProgressEndpoint {
  /** https://<operator>/v1/namespaces/<namespace>/caffetrainingjobs/<name>/progress */
  url: string;
  /** The projected service-account token (audience: the operator). */
  tokenFile: string;
  /** PEM CA bundle that signed the operator's serving certificate. */
  caFile: string;
}

/** A LiveStatusWriter `write` that POSTs the record to the endpoint; rejects unless it answers 2xx. */
export function postProgress(endpoint: ProgressEndpoint): (uri: string, body: Body) => Promise<void> {
  return async (_uri, body) => {
    if (typeof body !== 'string' && !(body instanceof Uint8Array))
      throw new Error('a report is one JSON text');
    const [token, ca] = await Promise.all([readFile(endpoint.tokenFile, 'utf8'), readFile(endpoint.caFile)]);
    await new Promise<void>((resolve, reject) => {
      const req = request(
        endpoint.url,
        {
          method: 'POST',
          ca,
          timeout: 30_000,
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token.trim()}` },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8');
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new Error(`${endpoint.url} answered ${status}: ${text.trim()}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${endpoint.url}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(body);
    });
  };
}
