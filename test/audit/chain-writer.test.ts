import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openChainWriter } from '../../audit/chain-writer.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { verifyChain } from '../../audit/verify.ts';
import { action, makeKeys, tempDir } from './support.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

describe('chain writer', () => {
  it('signs a checkpoint every T ms when there are new entries, and every N entries', async () => {
    const { keys } = makeKeys();
    let now = Date.UTC(2026, 5, 1);
    const store = createSegmentStore({ dir, fsync: false });
    const writer = await openChainWriter(store, '0', {
      keys,
      subjectKeys: await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys),
      checkpointEvery: 10,
      checkpointIntervalMs: 60_000,
      clock: () => now,
    });
    await writer.append([action(0), action(1), action(2)]);
    expect(await writer.checkpointIfDue()).toBeNull();
    now += 60_000;
    expect(await writer.checkpointIfDue()).toMatchObject({ seq: 3, time: '2026-06-01T00:01:00.000Z' });
    now += 60_000;
    expect(await writer.checkpointIfDue()).toBeNull(); // nothing new to seal
    const batch = Array.from({ length: 8 }, (_, i) => action(3 + i));
    await writer.append(batch);
    // 11 entries, 8 since the last checkpoint: not yet N=10.
    expect(writer.head().seq).toBe(11);
    await writer.append([action(11), action(12)]);
    // The checkpoint due after that batch is written after it (not awaited by its append).
    expect(await writer.checkpointIfDue()).toBeNull();
    const cps = [];
    for await (const r of store.readCheckpoints('0')) cps.push(r.value);
    expect(cps).toMatchObject([{ seq: 3 }, { seq: 13 }]);
    await writer.close();
    await writer.close();
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({
      ok: true,
      chains: [{ entries: 13, checkpoints: 2, unsealed: 0 }],
    });
  });

  it('drops an action whose event id it already recorded (a re-sent action)', async () => {
    const { keys } = makeKeys();
    const subjectKeys = await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys);
    const options = { keys, subjectKeys, checkpointEvery: 100, checkpointIntervalMs: 60_000 };
    const first = [action(0), action(1)];
    let writer = await openChainWriter(createSegmentStore({ dir }), '0', options);
    expect(await writer.append(first)).toHaveLength(2);
    expect(
      await writer.append([first[1]!, action(2), action(2, { eventId: first[0]!.eventId })]),
    ).toHaveLength(1);
    await writer.close();
    // Also after a restart: the recent event ids come back from the store.
    writer = await openChainWriter(createSegmentStore({ dir }), '0', options);
    expect(await writer.append([first[0]!])).toEqual([]);
    expect(writer.head().seq).toBe(3);
    await writer.close();
  });
});
