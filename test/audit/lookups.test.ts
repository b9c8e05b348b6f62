import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openChainWriter } from '../../audit/chain-writer.ts';
import { sha256Hex } from '../../audit/entry.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { action, makeKeys, tempDir } from './support.ts';

// The writer's per-batch lookups (subject keys, recently recorded event ids) are remembered
// between batches; what they return must be what a fresh lookup would.

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

describe('subject key lookups', () => {
  it('return the same key for a subject every time, the file’s key, and a new one after a forget elsewhere', async () => {
    const { keys } = makeKeys();
    const path = join(dir, 'subject-keys.json');
    const writerSide = await openSubjectKeyFile(path, keys);
    const first = await writerSide.keysFor(['alice', 'bob', 'alice']);
    expect([...first.keys()]).toEqual(['alice', 'bob']);
    const again = await writerSide.keysFor(['bob', 'carol', 'alice']);
    expect(again.get('alice')).toEqual(first.get('alice'));
    expect(again.get('bob')).toEqual(first.get('bob'));
    // What the file holds, read by another store: same ids and key bytes.
    const file = JSON.parse(await readFile(path, 'utf8')) as { subjects: { ref: string; id: string }[] };
    for (const subject of ['alice', 'bob', 'carol']) {
      const stored = file.subjects.find((s) => s.ref === sha256Hex(subject));
      expect(stored?.id).toBe(again.get(subject)!.id);
    }
    const otherSide = await openSubjectKeyFile(path, keys);
    expect(await otherSide.keysFor(['carol', 'alice'])).toEqual(
      new Map([
        ['carol', again.get('carol')],
        ['alice', again.get('alice')],
      ]),
    );
    // Forgotten by another process: the remembered lookup must not hand out the destroyed key.
    await otherSide.forget('alice');
    const after = await writerSide.keysFor(['alice', 'bob']);
    expect(after.get('alice')!.id).not.toBe(first.get('alice')!.id);
    expect(after.get('bob')).toEqual(first.get('bob'));
    expect(writerSide.keyById(first.get('alice')!.id)).toMatchObject({ forgottenAt: expect.any(String) });
    // Forgotten by this store itself.
    await writerSide.forget('bob');
    expect((await writerSide.keysFor(['bob'])).get('bob')!.id).not.toBe(first.get('bob')!.id);
  });
});

describe('recently recorded event ids', () => {
  it('drop a re-sent id while it is among the last N recorded, and forget the oldest first', async () => {
    const { keys } = makeKeys();
    const store = createSegmentStore({ dir, fsync: false });
    const options = {
      keys,
      subjectKeys: await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys),
      checkpointEvery: 100,
      checkpointIntervalMs: 3_600_000,
      recentEventIds: 3,
    };
    const writer = await openChainWriter(store, '0', options);
    const a = [0, 1, 2, 3, 4].map((i) => action(i));
    await writer.append(a.slice(0, 4)); // remembers 1, 2, 3
    expect(await writer.append([a[3]!, a[1]!])).toEqual([]);
    expect((await writer.append([a[0]!])).map((e) => e.eventId)).toEqual([a[0]!.eventId]); // evicts 1
    expect((await writer.append([a[1]!, a[2]!, a[4]!])).map((e) => e.eventId)).toEqual([
      a[1]!.eventId,
      a[4]!.eventId,
    ]);
    await writer.close();
    // Reopened: the store hands over the last ids; the ring holds the last 3 of them.
    const reopened = await openChainWriter(store, '0', options);
    expect(await reopened.append([a[0]!, a[1]!, a[4]!])).toEqual([]);
    expect((await reopened.append([a[2]!])).map((e) => e.eventId)).toEqual([a[2]!.eventId]);
    await reopened.close();
  });
});
