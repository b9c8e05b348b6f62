import type { BlobStore } from '../blob-store/index.ts';
import type { S3BlobStoreConfig } from '../blob-store/s3-config.ts';

/**
 * The S3 store, with the AWS SDK loaded on first use: processors on the local store (the
 * embedded default) never pay for loading it.
 */
export function createLazyS3BlobStore(config: S3BlobStoreConfig): BlobStore {
  let store: Promise<BlobStore> | undefined;
  const load = () => {
    store ??= import('../blob-store/s3-store.ts').then((m) => m.createS3BlobStore(config));
    return store;
  };
  return {
    put: async (bytes, mediaType) => (await load()).put(bytes, mediaType),
    get: async (ref) => (await load()).get(ref),
    has: async (ref) => (await load()).has(ref),
  };
}
