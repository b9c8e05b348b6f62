import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HubError } from '../../core/errors.ts';
import type { BlobRef, BlobStore } from './blob-ref.ts';

const uriPrefix = 'blob:sha256/';
const hexSha256 = /^[0-9a-f]{64}$/;

/** Hex SHA-256 of some bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Local-folder blob store (the embedded default). Objects live at `<root>/ab/cd/<sha256>`:
 * the two-level fan-out keeps directories small. Writes go to a temp file in the same folder
 * and are renamed into place, so a reader never sees half an object. An S3-compatible store
 * is meant to implement the same `BlobStore` interface; only this local one exists so far.
 */
export function createLocalBlobStore(root: string): BlobStore {
  const pathOf = (sha: string) => join(root, sha.slice(0, 2), sha.slice(2, 4), sha);

  const shaOf = (ref: BlobRef): string => {
    const fromUri = ref.uri.startsWith(uriPrefix) ? ref.uri.slice(uriPrefix.length) : undefined;
    if (!fromUri || !hexSha256.test(fromUri)) {
      throw new HubError('BLOB_BAD_REF', `blob reference ${ref.uri} is not a local content address`, {
        where: { field: 'uri' },
        hint: `local refs look like ${uriPrefix}<64 hex digits>`,
      });
    }
    return fromUri;
  };

  return {
    async put(bytes, mediaType) {
      const sha256 = sha256Hex(bytes);
      const target = pathOf(sha256);
      const ref: BlobRef = { uri: `${uriPrefix}${sha256}`, size: bytes.byteLength, mediaType, sha256 };
      const existing = await stat(target).catch(() => undefined);
      if (existing?.size === bytes.byteLength) return ref;
      const dir = join(root, sha256.slice(0, 2), sha256.slice(2, 4));
      await mkdir(dir, { recursive: true });
      const temp = join(dir, `.${sha256}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await writeFile(temp, bytes, { flag: 'wx' });
        await rename(temp, target);
      } catch (err) {
        await rm(temp, { force: true });
        throw new HubError('BLOB_WRITE_FAILED', `could not store blob ${sha256}`, {
          cause: err,
          retriable: true,
        });
      }
      return ref;
    },

    async get(ref) {
      const sha = shaOf(ref);
      let bytes: Buffer;
      try {
        bytes = await readFile(pathOf(sha));
      } catch (err) {
        throw new HubError('BLOB_NOT_FOUND', `blob ${ref.uri} is not in the store`, {
          cause: err,
          where: { field: 'uri' },
          hint: 'the producer must put the bytes into the same blob store before sending the event',
        });
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
      const found = await stat(pathOf(shaOf(ref))).catch(() => undefined);
      return found !== undefined;
    },
  };
}
