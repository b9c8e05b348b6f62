import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditConsumer } from '../../audit/consumer.ts';
import { createKeyFile, generateAuditKeyFile, loadAuditKeys } from '../../audit/keys.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { readAuditEntries, type ShownEntry } from '../../audit/show.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { registerAuditCommands } from '../../cli/commands/audit.ts';
import { uniqueName } from '../support/names.ts';
import { auditTestHub, waitFor } from './kafka-support.ts';
import { tempDir, writeChain } from './support.ts';

let t: Awaited<ReturnType<typeof auditTestHub>>;
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  t = await auditTestHub(1);
  ({ dir, cleanup } = await tempDir());
});
afterAll(async () => {
  await t?.close();
  await cleanup?.();
});

describe('tributary audit forget with Kafka reachable', () => {
  it('reports an audit.forget action that the audit records, without the subject id in it', async () => {
    const keyFile = join(dir, 'keys.json');
    await createKeyFile(keyFile, generateAuditKeyFile({ development: true }));
    const keys = await loadAuditKeys({ keyFile });
    const store = join(dir, 'audit-a');
    await writeChain(store, keys, 6, { subjectOf: (i) => (i === 2 ? 'gina@example.com' : null) });

    const out: string[] = [];
    const program = new Command('tributary').exitOverride();
    registerAuditCommands(program, {
      env: { TRIBUTARY_ACTOR: 'dpo-officer' },
      write: (text) => void out.push(text),
      writeErr: () => {},
      hubContext: async () => ({ ...t.hub, close: async () => {} }),
      actionsTopic: t.topic,
    });
    await program.parseAsync(['audit', 'forget', 'gina@example.com', '--dir', store, '--key-file', keyFile], {
      from: 'user',
    });
    const text = out.join('');
    const keyId = /forgot subject key (sk-\S+):/.exec(text)?.[1];
    expect(keyId).toBeDefined();
    expect(text).toContain('reported as an audit.forget action');

    // The audit consumer records the action in a chain of its own folder.
    const recorded = join(dir, 'audit-b');
    const consumer = createAuditConsumer(
      { dir: recorded, topic: t.topic, groupId: uniqueName('audit-g') },
      { kafka: t.kafka, serde: t.hub.serde, keys },
    );
    await consumer.start();
    await waitFor('the forget action recorded', () => consumer.status().recorded === 1);
    await consumer.close();
    const subjectKeys = await openSubjectKeyFile(join(recorded, 'subject-keys.json'), keys);
    const shown: ShownEntry[] = [];
    for await (const e of readAuditEntries(createSegmentStore({ dir: recorded }), {
      decrypt: { keys, subjectKeys },
    }))
      shown.push(e);
    expect(shown).toHaveLength(1);
    expect(shown[0]?.entry).toMatchObject({
      action: 'audit.forget',
      actor: 'dpo-officer',
      resource: 'audit.subject-keys',
      outcome: 'succeeded',
      component: 'cli.audit',
    });
    expect(shown[0]?.body).toMatchObject({
      subjectId: null,
      details: { subjectKeyId: keyId, forgotten: 'true' },
    });
    expect(JSON.stringify(shown)).not.toContain('gina@example.com');
  });
});
