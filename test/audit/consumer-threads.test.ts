import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditConsumerConfigSchema } from '../../audit/consumer.ts';
import { auditDeclaration } from '../../audit/declaration.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { verifyChain } from '../../audit/verify.ts';
import { silentLogger } from '../../core/logger.ts';
import { uniqueName } from '../support/names.ts';
import { actionEvent, auditTestHub, readChains, waitFor } from './kafka-support.ts';
import { makeKeys, tempDir } from './support.ts';

/**
 * The audit on worker threads (`threads` > 1), as the hub creates it from its declaration: each
 * thread a member of the audit group with its own hub context, writing the chains it is given.
 */

let t: Awaited<ReturnType<typeof auditTestHub>>;
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  t = await auditTestHub(4);
  ({ dir, cleanup } = await tempDir());
});
afterAll(async () => {
  await t?.close();
  await cleanup?.();
});

const auditOn = (config: Record<string, unknown>) =>
  auditDeclaration.create(auditConsumerConfigSchema.parse({ topic: t.topic, ...config }), {
    hub: t.hub,
    logger: silentLogger(),
  }) as ReturnType<typeof import('../../audit/consumer.ts').createAuditConsumer>;

describe('audit on worker threads', () => {
  it('spreads the chains over its threads, records every action once, and the chains verify', async () => {
    const { keys, json } = makeKeys();
    const keyFile = join(dir, 'keys.json');
    await writeFile(keyFile, json);
    const auditDir = join(dir, 'threads');
    const events = Array.from({ length: 400 }, (_, i) => actionEvent(i));

    const audit = auditOn({
      dir: auditDir,
      keyFile,
      groupId: uniqueName('audit-g'),
      threads: 2,
      checkpointEvery: 50,
    });
    try {
      await audit.start();
      // Both threads joined the group and hold chains before the actions arrive.
      await waitFor('two threads holding chains', () => {
        const threads = audit.status().threads ?? [];
        return threads.length === 2 && threads.every((th) => th.chains.length > 0);
      });
      await t.hub.producer.publish(t.topic, events);
      await waitFor('400 recorded', () => audit.status().recorded === 400);
      const status = audit.status();
      expect(status.running).toBe(true);
      expect(Object.keys(status.chains).sort()).toEqual(['0', '1', '2', '3']);
      // Two members of the group, each writing some of the four chains, none the same.
      expect(status.threads).toHaveLength(2);
      const owned = status.threads!.map((th) => th.chains);
      expect(owned.every((chains) => chains.length > 0)).toBe(true);
      expect(owned.flat().sort()).toEqual(['0', '1', '2', '3']);
      // Each recorded its own chains' actions.
      expect(status.threads!.every((th) => th.recorded > 0)).toBe(true);
      expect(status.threads!.reduce((n, th) => n + th.recorded, 0)).toBe(400);
    } finally {
      await audit.close();
    }
    expect(audit.status().running).toBe(false);

    const recorded = [...(await readChains(auditDir)).values()].flat().map((e) => e.eventId);
    expect(recorded).toHaveLength(400);
    expect(new Set(recorded)).toEqual(new Set(events.map((e) => e.envelope.id)));
    const verified = await verifyChain(createSegmentStore({ dir: auditDir }), keys);
    expect(verified).toMatchObject({ ok: true });
    expect(verified.chains).toHaveLength(4);
  }, 120_000);

  it("fails to start with a thread's own error, and leaves no thread running", async () => {
    const audit = auditOn({
      dir: join(dir, 'nokeys'),
      keyFile: join(dir, 'no-such-keys.json'),
      groupId: uniqueName('audit-g'),
      threads: 2,
    });
    await expect(audit.start()).rejects.toMatchObject({ code: expect.stringMatching(/^AUDIT_KEY/) });
    await audit.close();
    expect(audit.status().running).toBe(false);
  });
});
