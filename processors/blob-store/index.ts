export type { BlobRef, BlobStore } from './blob-ref.ts';
export { createLocalBlobStore, sha256Hex } from './local-blob-store.ts';
