import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { HubError } from '../../core/errors.ts';
import type { BlobRef, BlobStore } from './blob-ref.ts';
import { sha256Hex } from './local-blob-store.ts';
import { type S3BlobStoreConfig, s3BlobStoreConfigSchema } from './s3-config.ts';

export { type S3BlobStoreConfig, s3BlobStoreConfigSchema } from './s3-config.ts';

const hexSha256 = /^[0-9a-f]{64}$/;

function isNotFound(err: unknown): boolean {
  const e = err as Partial<S3ServiceException> | undefined;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

// A 4xx other than throttling says the request is wrong (credentials, bucket): no retry helps.
function isRetriable(err: unknown): boolean {
  const status = (err as Partial<S3ServiceException> | undefined)?.$metadata?.httpStatusCode;
  return status === undefined || status >= 500 || status === 429 || status === 408;
}

/**
 * Content-addressed blob store on S3-compatible storage: the claim checks of media events
 * point at `s3://<bucket>/<prefix><ab>/<sha256>`. Like the local store it verifies size and
 * SHA-256 on every read, and reads only keys that are content addresses in its own bucket,
 * so a crafted reference in an event cannot make a processor fetch arbitrary objects.
 */
export function createS3BlobStore(input: S3BlobStoreConfig, deps: { client?: S3Client } = {}): BlobStore {
  const config = s3BlobStoreConfigSchema.parse(input);
  const client =
    deps.client ??
    new S3Client({
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    });
  const keyOf = (sha: string) => `${config.prefix}${sha.slice(0, 2)}/${sha}`;
  const uriPrefix = `s3://${config.bucket}/`;
  const timeout = () => ({ abortSignal: AbortSignal.timeout(config.timeoutMs) });

  const storeError = (err: unknown, code: string, message: string) =>
    new HubError(code, `${message}: ${(err as Error).message}`, {
      cause: err,
      retriable: isRetriable(err),
      where: { field: 'uri' },
      hint: 'check the S3 endpoint, bucket and AWS_* credentials',
    });

  const shaOf = (ref: BlobRef): string => {
    const key = ref.uri.startsWith(uriPrefix) ? ref.uri.slice(uriPrefix.length) : undefined;
    const sha = key?.slice(key.lastIndexOf('/') + 1);
    if (!key || !sha || !hexSha256.test(sha) || key !== keyOf(sha)) {
      throw new HubError('BLOB_BAD_REF', `blob reference ${ref.uri} is not a content address of this store`, {
        where: { field: 'uri' },
        hint: `refs of this store look like ${uriPrefix}${config.prefix}<ab>/<64 hex digits>`,
      });
    }
    return sha;
  };

  async function exists(key: string): Promise<number | undefined> {
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: config.bucket, Key: key }), timeout());
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw storeError(err, 'BLOB_STORE_UNAVAILABLE', `cannot reach blob ${uriPrefix}${key}`);
    }
  }

  return {
    async put(bytes, mediaType) {
      const sha256 = sha256Hex(bytes);
      const key = keyOf(sha256);
      const ref: BlobRef = { uri: `${uriPrefix}${key}`, size: bytes.byteLength, mediaType, sha256 };
      // Same bytes, same key: an object already there is this blob (reads verify it anyway).
      if ((await exists(key)) === bytes.byteLength) return ref;
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: config.bucket,
            Key: key,
            Body: bytes,
            ContentType: mediaType,
            Metadata: { sha256 },
          }),
          timeout(),
        );
      } catch (err) {
        throw storeError(err, 'BLOB_WRITE_FAILED', `could not store blob ${sha256}`);
      }
      return ref;
    },

    async get(ref) {
      const sha = shaOf(ref);
      let bytes: Buffer;
      try {
        const object = await client.send(
          new GetObjectCommand({ Bucket: config.bucket, Key: keyOf(sha) }),
          timeout(),
        );
        bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
      } catch (err) {
        if (isNotFound(err)) {
          throw new HubError('BLOB_NOT_FOUND', `blob ${ref.uri} is not in the store`, {
            cause: err,
            where: { field: 'uri' },
            hint: 'the producer must put the bytes into the same blob store before sending the event',
          });
        }
        throw storeError(err, 'BLOB_STORE_UNAVAILABLE', `could not read blob ${ref.uri}`);
      }
      const actual = sha256Hex(bytes);
      if (actual !== ref.sha256.toLowerCase() || actual !== sha || bytes.byteLength !== ref.size) {
        throw new HubError(
          'BLOB_HASH_MISMATCH',
          `blob ${ref.uri} does not match its reference (expected sha256 ${ref.sha256} size ${ref.size}, got ${actual} size ${bytes.byteLength})`,
          {
            where: { field: 'sha256' },
            hint: 'the bytes were altered or the event carries a wrong hash; re-upload them',
          },
        );
      }
      return bytes;
    },

    async has(ref) {
      return (await exists(keyOf(shaOf(ref)))) !== undefined;
    },
  };
}
