import { z } from 'zod';

/** Where the S3-compatible store keeps blobs. Credentials come from the AWS SDK chain (AWS_* env), never from here. */
export const s3BlobStoreConfigSchema = z.object({
  bucket: z.string().min(3).describe('Bucket that holds the blobs (created beforehand)'),
  prefix: z.string().default('blobs/').describe('Key prefix; objects live at <prefix><ab>/<sha256>'),
  endpoint: z
    .string()
    .url()
    .optional()
    .describe('Endpoint of an S3-compatible server (MinIO, Ceph RGW, ...); AWS S3 when absent'),
  region: z.string().default('us-east-1').describe('Region to sign requests for'),
  forcePathStyle: z
    .boolean()
    .default(true)
    .describe('Path-style URLs (host/bucket/key), which most S3-compatible servers need'),
  timeoutMs: z.number().int().positive().default(30_000).describe('Longest one request may take'),
});

export type S3BlobStoreConfig = z.input<typeof s3BlobStoreConfigSchema>;
