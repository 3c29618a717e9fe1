// S3 client settings and URIs, apart from the SDK so that importing them costs nothing.
// Endpoint and credentials come from the standard AWS variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION); with a custom endpoint, requests use path-style addressing
// (http://host/bucket/key) as S3-compatible servers expect.
import type { S3ClientConfig } from '@aws-sdk/client-s3';

export interface S3Location {
  bucket: string;
  key: string;
}

export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`expected an s3://bucket/key URI, received '${uri}'`);
  return { bucket: match[1]!, key: match[2]! };
}

/**
 * Client settings from the environment. Path-style addressing whenever an endpoint is set (S3-compatible
 * servers rarely serve bucket subdomains), unless AWS_S3_FORCE_PATH_STYLE=false says otherwise.
 */
export function s3ConfigFromEnv(env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const pathStyle = env.AWS_S3_FORCE_PATH_STYLE
    ? env.AWS_S3_FORCE_PATH_STYLE === 'true'
    : endpoint !== undefined;
  return {
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(pathStyle ? { forcePathStyle: true } : {}),
    // Explicit keys when the variables are there; otherwise the SDK's own chain (profiles, IRSA, ...).
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
    maxAttempts: env.AWS_MAX_ATTEMPTS ? Number(env.AWS_MAX_ATTEMPTS) : 6,
    retryMode: env.AWS_RETRY_MODE ?? 'standard',
    // S3-compatible servers often lack the newer flexible checksums; send them only when required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}
