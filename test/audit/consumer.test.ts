import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAnchors } from '../../audit/anchors.ts';
import { createAuditConsumer } from '../../audit/consumer.ts';
import { auditDeclaration } from '../../audit/declaration.ts';
import { decryptEntry } from '../../audit/decrypt.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { readAuditEntries } from '../../audit/show.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { verifyChain } from '../../audit/verify.ts';
import { silentLogger } from '../../core/logger.ts';
import { createActionEmitter } from '../../platform/index.ts';
import { uniqueName } from '../support/names.ts';
import { actionEvent, auditTestHub, offsets, readChains, waitFor } from './kafka-support.ts';
import { makeKeys, tempDir } from './support.ts';

let t: Awaited<ReturnType<typeof auditTestHub>>;
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  t = await auditTestHub(3);
  ({ dir, cleanup } = await tempDir());
});
afterAll(async () => {
  await t?.close();
  await cleanup?.();
});

describe('audit consumer with a real broker', () => {
  it('refuses to start without a key, before touching Kafka or the store', async () => {
    const consumer = createAuditConsumer(
      { dir: join(dir, 'nokey'), topic: t.topic, groupId: uniqueName('audit-g') },
      { kafka: t.kafka, serde: t.hub.serde },
    );
    const saved = { file: process.env.TRIBUTARY_AUDIT_KEY_FILE, keys: process.env.TRIBUTARY_AUDIT_KEYS };
    delete process.env.TRIBUTARY_AUDIT_KEY_FILE;
    delete process.env.TRIBUTARY_AUDIT_KEYS;
    try {
      await expect(consumer.start()).rejects.toMatchObject({ code: 'AUDIT_KEYS_MISSING' });
    } finally {
      if (saved.file !== undefined) process.env.TRIBUTARY_AUDIT_KEY_FILE = saved.file;
      if (saved.keys !== undefined) process.env.TRIBUTARY_AUDIT_KEYS = saved.keys;
      await consumer.close();
    }
    expect(existsSync(join(dir, 'nokey'))).toBe(false);
  });

  it('records every action once per partition chain, resumes after restart, seeks back when the group ran ahead', async () => {
    const { keys } = makeKeys();
    const groupId = uniqueName('audit-g');
    const config = {
      dir,
      topic: t.topic,
      groupId,
      checkpointEvery: 50,
      checkpointIntervalMs: 500,
      fsync: true,
    };
    const produced: string[] = [];
    const publish = async (from: number, to: number) => {
      const events = [];
      for (let i = from; i < to; i++)
        events.push(actionEvent(i, { subjectId: i % 10 === 0 ? `person-${i % 3}` : null }));
      await t.hub.producer.publish(t.topic, events);
      produced.push(...events.map((e) => e.envelope.id));
    };

    await publish(0, 300);
    // One record that is not an action: it is recorded as such, not lost and not blocking.
    await t.hub.producer.publishRaw(t.topic, [{ key: 'x', value: Buffer.from('not avro'), partition: 1 }]);
    let consumer = createAuditConsumer(config, { kafka: t.kafka, serde: t.hub.serde, keys });
    await consumer.start();
    await waitFor('301 recorded', () => consumer.status().recorded === 301);
    await consumer.close();

    // Restart: the same records are not recorded again; new ones are.
    await publish(300, 400);
    consumer = createAuditConsumer(config, { kafka: t.kafka, serde: t.hub.serde, keys });
    await consumer.start();
    await waitFor('100 more recorded', () => consumer.status().recorded === 100);
    await consumer.close();

    // The group's offsets jump to the end (e.g. reset by hand) while 60 actions are unrecorded.
    await publish(400, 460);
    const admin = t.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(t.topic);
    await admin.setOffsets({
      groupId,
      topic: t.topic,
      partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
    });
    await admin.disconnect();
    expect(await offsets(t.kafka, t.topic, groupId)).toEqual({ end: 461n, committed: 461n });
    consumer = createAuditConsumer(config, { kafka: t.kafka, serde: t.hub.serde, keys });
    await consumer.start();
    await waitFor('60 sought back', () => consumer.status().recorded === 60);
    await consumer.close();

    // The opposite: the group lost its commits (as after a crash between append and commit).
    await publish(460, 470);
    const admin2 = t.kafka.admin();
    await admin2.connect();
    await admin2.setOffsets({
      groupId,
      topic: t.topic,
      partitions: [0, 1, 2].map((partition) => ({ partition, offset: '0' })),
    });
    await admin2.disconnect();
    consumer = createAuditConsumer(config, { kafka: t.kafka, serde: t.hub.serde, keys });
    await consumer.start();
    await waitFor('caught up after lost commits', async () => {
      const o = await offsets(t.kafka, t.topic, groupId);
      return o.committed === o.end;
    });
    expect(consumer.status().recorded).toBe(10);
    await consumer.close();

    const chains = await readChains(dir);
    expect([...chains.keys()]).toEqual(['0', '1', '2']);
    // The store knows where each source partition was recorded up to (what a restart resumes after).
    const resume = await createSegmentStore({ dir }).lastSourceOffsets();
    expect([...resume.values()]).toEqual(
      [...chains.entries()].map(([chain, entries]) => ({
        topic: t.topic,
        partition: Number(chain),
        offset: String(entries.length - 1),
      })),
    );
    const all = [...chains.values()].flat();
    expect(all).toHaveLength(471);
    for (const [chain, entries] of chains) {
      // Each chain is exactly its partition, offsets 0..n-1 in order: no gap, no duplicate.
      expect(entries.map((e) => e.source)).toEqual(
        entries.map((_, i) => ({ topic: t.topic, partition: Number(chain), offset: String(i) })),
      );
    }
    const ids = all.filter((e) => e.action !== 'audit.record.undecodable').map((e) => e.eventId);
    expect(new Set(ids)).toEqual(new Set(produced));
    const undecodable = all.filter((e) => e.action === 'audit.record.undecodable');
    expect(undecodable).toMatchObject([{ outcome: 'failed', source: { partition: 1 } }]);

    const subjectKeys = await openSubjectKeyFile(join(dir, 'subject-keys.json'), keys);
    const result = await verifyChain(createSegmentStore({ dir }), keys, { decrypt: true, subjectKeys });
    expect(result).toMatchObject({ ok: true });
    const bodies = all.map((e) => decryptEntry(String(e.source.partition), e, keys, subjectKeys));
    expect(bodies.filter((b) => 'body' in b && b.body.subjectId !== null)).toHaveLength(47);
    expect(bodies.every((b) => 'body' in b)).toBe(true);
    // Close wrote a final checkpoint on every chain.
    expect(result.chains.every((c) => c.unsealed === 0)).toBe(true);
  });
});

describe('actions from the platform emitter', () => {
  it('every action a component emits is in the chain, its details readable only with the key', async () => {
    const { keys } = makeKeys();
    const topic = await t.newTopic(2);
    const auditDir = join(dir, 'emitter');
    const bridge = createActionEmitter({ producer: t.hub.producer, source: 'mcp-bridge', topic });
    const crm = createActionEmitter({ producer: t.hub.producer, source: 'connector.crm', topic });
    const ids = [
      await bridge.emit({
        action: 'mcp.tool.call',
        actor: 'alice',
        resource: 'crm.contact.upsert',
        outcome: 'succeeded',
        argsDigest: 'a'.repeat(64),
        subjectId: 'contact-42',
        details: { durationMs: 12, tool: 'crm.contact.upsert' },
      }),
      await bridge.emit({
        action: 'auth.denied',
        actor: 'mallory',
        resource: 'mcp-bridge',
        outcome: 'denied',
      }),
      await crm.emit({
        action: 'connector.sync.batch',
        actor: 'svc-crm',
        resource: 'crm.contact',
        outcome: 'succeeded',
        details: { count: 25 },
      }),
    ];
    const consumer = createAuditConsumer(
      { dir: auditDir, topic, groupId: uniqueName('audit-g') },
      { kafka: t.kafka, serde: t.hub.serde, keys },
    );
    await consumer.start();
    await waitFor('3 recorded', () => consumer.status().recorded === 3);
    await consumer.close();

    const subjectKeys = await openSubjectKeyFile(join(auditDir, 'subject-keys.json'), keys);
    const shown = [];
    for await (const e of readAuditEntries(createSegmentStore({ dir: auditDir }), {
      decrypt: { keys, subjectKeys },
    })) {
      shown.push(e);
    }
    const byId = new Map(shown.map((e) => [e.entry.eventId, e]));
    expect(ids.map((id) => byId.get(id))).toMatchObject([
      {
        entry: { action: 'mcp.tool.call', actor: 'alice', component: 'mcp-bridge', outcome: 'succeeded' },
        body: {
          argsDigest: 'a'.repeat(64),
          subjectId: 'contact-42',
          details: { durationMs: '12', tool: 'crm.contact.upsert' },
        },
      },
      { entry: { action: 'auth.denied', actor: 'mallory', outcome: 'denied' }, body: { details: {} } },
      {
        entry: { action: 'connector.sync.batch', component: 'connector.crm' },
        body: { details: { count: '25' } },
      },
    ]);
    // Nothing sensitive is in the clear on disk.
    const raw = JSON.stringify(shown.map((e) => e.entry));
    expect(raw).not.toContain('contact-42');
    expect(raw).not.toContain('durationMs');
    expect(
      await verifyChain(createSegmentStore({ dir: auditDir }), keys, { decrypt: true, subjectKeys }),
    ).toMatchObject({
      ok: true,
    });
  });
});

describe('audit declaration', () => {
  it('creates the consumer from the HubContext, keys from TRIBUTARY_AUDIT_KEYS', async () => {
    const { json, keys } = makeKeys();
    const topic = await t.newTopic(1);
    const auditDir = join(dir, 'declared');
    const saved = process.env.TRIBUTARY_AUDIT_KEYS;
    process.env.TRIBUTARY_AUDIT_KEYS = Buffer.from(json).toString('base64');
    try {
      const anchorTopic = await t.newTopic(1);
      const config = auditDeclaration.config.parse({
        dir: auditDir,
        topic,
        anchorTopic,
        groupId: uniqueName('audit-g'),
      });
      const component = auditDeclaration.create(config, { logger: silentLogger(), hub: t.hub });
      await t.hub.producer.publish(topic, [actionEvent(1)]);
      await component.start();
      await waitFor('1 recorded', () => component.status?.().recorded === 1);
      await component.close();
      await component.close();
      // The final checkpoint went to the anchor topic through the hub's producer.
      expect((await readAnchors(t.kafka, topic, anchorTopic)).get('0')).toMatchObject({ chain: '0', seq: 1 });
    } finally {
      if (saved === undefined) delete process.env.TRIBUTARY_AUDIT_KEYS;
      else process.env.TRIBUTARY_AUDIT_KEYS = saved;
    }
    expect(auditDeclaration).toMatchObject({
      name: 'audit',
      kind: 'audit',
      consumes: ['hub.actions'],
      produces: ['_tributary.audit.checkpoints'],
      topics: [{ name: '_tributary.audit.checkpoints', cleanupPolicy: 'compact' }],
    });
    expect(await verifyChain(createSegmentStore({ dir: auditDir }), keys, { decrypt: true })).toMatchObject({
      ok: true,
      chains: [{ entries: 1, decrypted: 1 }],
    });
  });
});

describe('checkpoint anchors in Kafka', () => {
  it('a tail cut together with its checkpoints passes a local verify but not verify with anchors', async () => {
    const { keys } = makeKeys();
    const topic = await t.newTopic(1);
    const anchorTopic = await t.newTopic(1);
    const auditDir = join(dir, 'anchored');
    await t.hub.producer.publish(
      topic,
      Array.from({ length: 30 }, (_, i) => actionEvent(i)),
    );
    const consumer = createAuditConsumer(
      { dir: auditDir, topic, anchorTopic, groupId: uniqueName('audit-g'), checkpointEvery: 10 },
      { kafka: t.kafka, serde: t.hub.serde, producer: t.hub.producer, keys },
    );
    await consumer.start();
    await waitFor('30 recorded', () => consumer.status().recorded === 30);
    await consumer.close();
    const anchors = await readAnchors(t.kafka, topic, anchorTopic);
    expect(anchors.get('0')).toMatchObject({ seq: 30 });
    const store = createSegmentStore({ dir: auditDir });
    expect(await verifyChain(store, keys, { anchors })).toMatchObject({ ok: true });

    // A careful forger cuts entries 26..30 and every checkpoint after seq 25.
    const chainDir = join(auditDir, 'chain-0');
    for (const name of await readdir(chainDir)) {
      if (!name.endsWith('.jsonl')) continue;
      const lines = (await readFile(join(chainDir, name), 'utf8')).split('\n').filter((l) => l !== '');
      const kept = lines.filter((l) => JSON.parse(l).seq <= 25);
      await writeFile(join(chainDir, name), kept.map((l) => `${l}\n`).join(''));
    }
    expect(await verifyChain(store, keys)).toMatchObject({ ok: true, chains: [{ entries: 25 }] });
    expect(await verifyChain(store, keys, { anchors, anchorOrigin: anchorTopic })).toMatchObject({
      ok: false,
      problem: { chain: '0', seq: 26, reason: 'truncated-tail', file: anchorTopic },
    });
    // Deleting the whole chain folder is caught the same way.
    await rm(chainDir, { recursive: true });
    expect(await verifyChain(store, keys, { anchors })).toMatchObject({
      ok: false,
      problem: { chain: '0', reason: 'truncated-tail' },
    });
  });
});

describe('audit consumer with the wrong key file', () => {
  it('stops with AUDIT_WRONG_KEY and leaves the chain as it was', async () => {
    const right = makeKeys().keys;
    const wrong = makeKeys().keys;
    const topic = await t.newTopic(1);
    const auditDir = join(dir, 'wrong-key');
    await t.hub.producer.publish(topic, [actionEvent(1), actionEvent(2)]);
    const groupId = uniqueName('audit-g');
    let consumer = createAuditConsumer(
      { dir: auditDir, topic, groupId },
      { kafka: t.kafka, serde: t.hub.serde, keys: right },
    );
    await consumer.start();
    await waitFor('2 recorded', () => consumer.status().recorded === 2);
    await consumer.close();
    const before = await readFile(join(auditDir, 'chain-0', 'segment-000000000001.jsonl'));

    await t.hub.producer.publish(topic, [actionEvent(3)]);
    consumer = createAuditConsumer(
      { dir: auditDir, topic, groupId },
      { kafka: t.kafka, serde: t.hub.serde, keys: wrong },
    );
    await expect(consumer.start()).rejects.toMatchObject({ code: 'AUDIT_WRONG_KEY' });
    expect(await consumer.failed()).toMatchObject({ code: 'AUDIT_WRONG_KEY' });
    expect(consumer.status().error).toContain('this key file does not have');
    await consumer.close();
    expect(await readFile(join(auditDir, 'chain-0', 'segment-000000000001.jsonl'))).toEqual(before);
    expect(await offsets(t.kafka, topic, groupId)).toEqual({ end: 3n, committed: 2n });
  });
});
