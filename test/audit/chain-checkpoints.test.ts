import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChainWriter } from '../../audit/chain-writer.ts';
import type { Checkpoint } from '../../audit/entry.ts';
import type { AuditKeyRing } from '../../audit/keys.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import type { ChainAppender } from '../../audit/store.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { verifyChain } from '../../audit/verify.ts';
import { action, makeKeys, tempDir } from './support.ts';

/**
 * A checkpoint due after a batch is written after that batch, but the batch's append does not
 * wait for it, nor for its anchor in Kafka: the caller prepares its next batch meanwhile.
 */

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

/** A gate: `wait()` resolves (or fails) when the test opens it. */
function gate() {
  let open: (err?: Error) => void = () => {};
  const opened = new Promise<void>((resolve, reject) => {
    open = (err) => (err ? reject(err) : resolve());
  });
  return { wait: () => opened, open };
}

/** The real segment appender (chain 0), logging what reaches it; `beforeCheckpoint` runs first. */
async function loggingAppender(
  log: string[],
  beforeCheckpoint: (cp: Checkpoint) => Promise<void> = async () => {},
): Promise<ChainAppender> {
  const inner = await createSegmentStore({ dir }).openAppender('0');
  return {
    chainId: inner.chainId,
    state: inner.state,
    async append(entries, lines) {
      await inner.append(entries, lines);
      log.push(`entries ${entries[0]!.seq}-${entries.at(-1)!.seq}`);
    },
    async appendCheckpoint(cp) {
      await beforeCheckpoint(cp);
      await inner.appendCheckpoint(cp);
      log.push(`checkpoint ${cp.seq}`);
    },
    close: () => inner.close(),
  };
}

async function writerOn(
  appender: ChainAppender,
  keys: AuditKeyRing,
  onCheckpoint?: (cp: Checkpoint) => Promise<void>,
) {
  return createChainWriter({
    appender,
    keys,
    subjectKeys: await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys),
    checkpointEvery: 2,
    checkpointIntervalMs: 3_600_000,
    ...(onCheckpoint ? { onCheckpoint } : {}),
  });
}

/** Lets pending callbacks and I/O run for a while. */
async function settle(): Promise<void> {
  for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
}

function track<T>(p: Promise<T>) {
  const t = { settled: false, error: undefined as unknown };
  p.then(
    () => Object.assign(t, { settled: true }),
    (e) => Object.assign(t, { settled: true, error: e }),
  );
  return t;
}

describe('chain writer checkpoints', () => {
  it('acknowledges a batch before the checkpoint due after it, and writes the next batch after that checkpoint', async () => {
    const { keys } = makeKeys();
    const log: string[] = [];
    const held = gate();
    const writer = await writerOn(await loggingAppender(log, () => held.wait()), keys);
    await writer.append([action(0), action(1)]);
    // The checkpoint over seq 2 is due and still held: the append resolved all the same.
    const next = track(writer.append([action(2)]));
    await settle();
    expect(next.settled).toBe(false);
    expect(log).toEqual(['entries 1-2']);
    held.open();
    await writer.close();
    expect(next).toMatchObject({ settled: true, error: undefined });
    expect(log).toEqual(['entries 1-2', 'checkpoint 2', 'entries 3-3', 'checkpoint 3']);
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({
      ok: true,
      chains: [{ entries: 3, checkpoints: 2, unsealed: 0 }],
    });
  });

  it('fails the next append with the error of a checkpoint that failed; that batch can be appended again', async () => {
    const { keys } = makeKeys();
    const log: string[] = [];
    let failures = 1;
    const writer = await writerOn(
      await loggingAppender(log, async () => {
        if (failures-- > 0) throw new Error('checkpoint file: no space left on device');
      }),
      keys,
    );
    await writer.append([action(0), action(1)]);
    await settle();
    const batch = [action(2)];
    await expect(writer.append(batch)).rejects.toThrow('no space left on device');
    expect(writer.head().seq).toBe(2);
    await writer.append(batch);
    await writer.close();
    expect(log).toEqual(['entries 1-2', 'entries 3-3', 'checkpoint 3']);
    expect(await verifyChain(createSegmentStore({ dir }), keys)).toMatchObject({
      ok: true,
      chains: [{ entries: 3, checkpoints: 1, unsealed: 0 }],
    });
  });

  it('anchors checkpoints one after another outside the write slot, and close waits for them', async () => {
    const { keys } = makeKeys();
    const log: string[] = [];
    const anchored: number[] = [];
    const held = gate();
    const writer = await writerOn(await loggingAppender(log), keys, async (cp) => {
      await held.wait();
      anchored.push(cp.seq);
    });
    await writer.append([action(0), action(1)]);
    // The first anchor is held: the next batches and their checkpoints are written regardless.
    await writer.append([action(2), action(3)]);
    await writer.append([action(4)]);
    await settle();
    expect(log).toEqual(['entries 1-2', 'checkpoint 2', 'entries 3-4', 'checkpoint 4', 'entries 5-5']);
    expect(anchored).toEqual([]);
    const closed = track(writer.close());
    await settle();
    expect(closed.settled).toBe(false);
    held.open();
    await writer.close();
    expect(anchored).toEqual([2, 4, 5]);
  });
});
