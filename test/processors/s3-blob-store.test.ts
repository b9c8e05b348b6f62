import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { createS3BlobStore } from '../../processors/blob-store/s3-store.ts';
import { imageProcessorDeclaration } from '../../processors/image/declaration.ts';
import { uniqueName } from '../support/names.ts';
import { startProcessorHarness } from './kafka-harness.ts';

/** The parts of @20minutes/s3rver (an S3-compatible server on the filesystem) used here; it ships no types. */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('@20minutes/s3rver') as new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverServer;

async function thrown(promise: Promise<unknown>): Promise<HubError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HubError);
  return err as HubError;
}

describe('S3-compatible blob store against a real S3 server (s3rver)', () => {
  const bucket = uniqueName('media');
  let dir: string;
  let server: S3rverServer;
  let endpoint: string;
  let client: S3Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3rver-'));
    server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: dir,
      configureBuckets: [{ name: bucket }],
    });
    const address = await server.run();
    endpoint = `http://127.0.0.1:${address.port}`;
    client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores bytes under their content address, reads them back verified, and stores the same bytes once', async () => {
    const store = createS3BlobStore({ bucket, endpoint }, { client });
    const bytes = Buffer.from(`a picture ${uniqueName('bytes')}`);
    const ref = await store.put(bytes, 'image/png');
    expect(ref.uri).toBe(`s3://${bucket}/blobs/${ref.sha256.slice(0, 2)}/${ref.sha256}`);
    expect(ref.size).toBe(bytes.byteLength);
    expect(await store.has(ref)).toBe(true);
    expect(Buffer.compare(await store.get(ref), bytes)).toBe(0);
    // The object is really in the bucket, with the media type (read past the store).
    const raw = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: ref.uri.slice(`s3://${bucket}/`.length) }),
    );
    expect(raw.ContentType).toBe('image/png');
    expect(Buffer.from(await raw.Body!.transformToByteArray()).toString()).toBe(bytes.toString());
    expect(await store.put(bytes, 'image/png')).toEqual(ref);
  });

  it('rejects altered bytes, a wrong hash, a missing object and references outside its bucket', async () => {
    const store = createS3BlobStore({ bucket, endpoint, prefix: 'media/' }, { client });
    const ref = await store.put(Buffer.from('original bytes'), 'audio/wav');
    // Someone overwrites the object behind the store's back.
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: ref.uri.slice(`s3://${bucket}/`.length),
        Body: 'tampered bytes',
      }),
    );
    expect((await thrown(store.get(ref))).code).toBe('BLOB_HASH_MISMATCH');

    const other = await store.put(Buffer.from('other bytes'), 'audio/wav');
    expect((await thrown(store.get({ ...other, sha256: ref.sha256 }))).code).toBe('BLOB_HASH_MISMATCH');
    expect((await thrown(store.get({ ...other, size: other.size + 1 }))).code).toBe('BLOB_HASH_MISMATCH');

    const missingSha = 'f'.repeat(64);
    const missing = { ...other, uri: `s3://${bucket}/media/ff/${missingSha}`, sha256: missingSha };
    expect(await store.has(missing)).toBe(false);
    expect((await thrown(store.get(missing))).code).toBe('BLOB_NOT_FOUND');

    for (const uri of [
      `s3://another-bucket/media/ff/${missingSha}`,
      `s3://${bucket}/secrets/config.json`,
      `s3://${bucket}/media/ab/${missingSha}`,
      `blob:sha256/${missingSha}`,
    ]) {
      expect((await thrown(store.get({ ...missing, uri }))).code).toBe('BLOB_BAD_REF');
    }
  });

  it('says a store that cannot be reached is a retriable failure', async () => {
    const down = new S3Client({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const store = createS3BlobStore({ bucket, endpoint: 'http://127.0.0.1:9' }, { client: down });
    const err = await thrown(store.put(Buffer.from('x'), 'text/plain'));
    expect([err.code, err.retriable]).toEqual(['BLOB_STORE_UNAVAILABLE', true]);
    down.destroy();
  });

  it('an image processor configured with blobS3 reads its claim checks from S3 through Kafka', async () => {
    // The processor gets its credentials as in production: from the AWS SDK chain (AWS_* env).
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    const h = await startProcessorHarness([imageProcessorDeclaration]);
    try {
      const blobS3 = { bucket, endpoint, prefix: 'kafka/' };
      await h.start(imageProcessorDeclaration, { blobS3 });
      const store = createS3BlobStore(blobS3, { client });
      const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#336699' } })
        .png()
        .toBuffer();
      const image = await store.put(png, 'image/png');
      const okId = await h.request(
        'media.image.analyze.req',
        'tributary.media.ImageAnalyzeRequest',
        { image, analyses: ['describe'] },
        'c-s3',
      );
      const badId = await h.request(
        'media.image.analyze.req',
        'tributary.media.ImageAnalyzeRequest',
        { image: { ...image, size: image.size + 1 }, analyses: ['describe'] },
        'c-s3-bad',
      );
      const ok = await h.waitFor('media.image.analyze.res', (r) => r.event.data.requestId === okId);
      expect(ok.event.data.status).toBe('succeeded');
      expect((ok.event.data.describe as { text: string }).text).toContain('40');
      const bad = await h.waitFor('media.image.analyze.res', (r) => r.event.data.requestId === badId);
      expect((bad.event.data.error as { code: string }).code).toBe('BLOB_HASH_MISMATCH');
    } finally {
      await h.close();
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  }, 60_000);
});
