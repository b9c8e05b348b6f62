import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { createLocalBlobStore, sha256Hex } from '../../processors/blob-store/index.ts';

describe('local blob store', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'blob-test-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores bytes by content address and reads them back verified', async () => {
    const store = createLocalBlobStore(root);
    const bytes = Buffer.from(`hello ${Math.random()}`);
    const ref = await store.put(bytes, 'text/plain');
    expect(ref.sha256).toBe(sha256Hex(bytes));
    expect(ref.size).toBe(bytes.length);
    expect(ref.uri).toBe(`blob:sha256/${ref.sha256}`);
    expect(await readdir(join(root, ref.sha256.slice(0, 2), ref.sha256.slice(2, 4)))).toEqual([ref.sha256]);
    expect((await store.get(ref)).equals(bytes)).toBe(true);
    expect(await store.put(bytes, 'text/plain')).toEqual(ref);
  });

  it('refuses bytes whose hash does not match the reference', async () => {
    const store = createLocalBlobStore(root);
    const ref = await store.put(Buffer.from('original bytes'), 'text/plain');
    await writeFile(join(root, ref.sha256.slice(0, 2), ref.sha256.slice(2, 4), ref.sha256), 'tampered bytes');
    const err = await store.get(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('BLOB_HASH_MISMATCH');
    const other = await store.put(Buffer.from('other'), 'text/plain');
    const wrongHash = { ...other, sha256: sha256Hex(Buffer.from('something else')) };
    expect(((await store.get(wrongHash).catch((e: unknown) => e)) as HubError).code).toBe(
      'BLOB_HASH_MISMATCH',
    );
  });

  it('says when a blob is missing', async () => {
    const store = createLocalBlobStore(root);
    const sha = sha256Hex(Buffer.from('never stored'));
    const err = (await store
      .get({ uri: `blob:sha256/${sha}`, size: 12, mediaType: 'text/plain', sha256: sha })
      .catch((e: unknown) => e)) as HubError;
    expect(err.code).toBe('BLOB_NOT_FOUND');
  });
});
