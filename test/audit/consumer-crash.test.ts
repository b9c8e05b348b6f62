import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyFile, generateAuditKeyFile, loadAuditKeys } from '../../audit/keys.ts';
import { createSegmentStore } from '../../audit/segment-store.ts';
import { openSubjectKeyFile } from '../../audit/subject-keys.ts';
import { verifyChain } from '../../audit/verify.ts';
import { uniqueName } from '../support/names.ts';
import { actionEvent, auditTestHub, offsets, readChains, waitFor } from './kafka-support.ts';
import { tempDir } from './support.ts';

// The issue asks for 50,000; AUDIT_CRASH_ACTIONS lowers it on a slow machine.
const ACTIONS = Number(process.env.AUDIT_CRASH_ACTIONS ?? 50_000);
const child = join(import.meta.dirname, 'fixtures', 'run-consumer.ts');

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

/** Starts the consumer process; `recorded()` is what it reported last. */
function startConsumer(env: NodeJS.ProcessEnv): {
  proc: ChildProcess;
  recorded: () => number;
  output: () => string;
} {
  const proc = spawn(process.execPath, [child], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let recorded = 0;
  let output = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    const last = [...chunk.matchAll(/recorded (\d+)/g)].at(-1);
    if (last) recorded = Number(last[1]);
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  return { proc, recorded: () => recorded, output: () => output.slice(-2000) };
}

const exited = (proc: ChildProcess) =>
  new Promise<void>((resolve) =>
    proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once('exit', () => resolve()),
  );

describe('audit consumer killed mid-stream', () => {
  it(`records ${ACTIONS} actions exactly once across two SIGKILLs, and the chain verifies`, {
    timeout: 150_000,
  }, async () => {
    const keyFile = join(dir, 'keys.json');
    await createKeyFile(keyFile, generateAuditKeyFile({ development: true }));
    const groupId = uniqueName('audit-crash');
    const env = {
      ...t.env,
      TRIBUTARY_AUDIT_KEY_FILE: keyFile,
      AUDIT_DIR: join(dir, 'audit'),
      AUDIT_TOPIC: t.topic,
      AUDIT_GROUP: groupId,
      AUDIT_SCHEMA_LOG_TOPIC: t.schemaLogTopic,
    };

    const produced = new Set<string>();
    const producing = (async () => {
      for (let i = 0; i < ACTIONS; i += 1000) {
        const events = [];
        for (let j = i; j < Math.min(ACTIONS, i + 1000); j++)
          events.push(actionEvent(j, { subjectId: j % 50 === 0 ? 'p' : null }));
        await t.hub.producer.publish(t.topic, events);
        for (const e of events) produced.add(e.envelope.id);
      }
    })();

    // Two runs killed without warning partway, then one that finishes and stops cleanly.
    for (const killAt of [Math.floor(ACTIONS / 5), Math.floor(ACTIONS / 4)]) {
      const run = startConsumer(env);
      await waitFor(`a run to record ${killAt} (${run.output()})`, () => run.recorded() >= killAt, 90_000);
      run.proc.kill('SIGKILL');
      await exited(run.proc);
    }
    await producing;
    const last = startConsumer(env);
    await waitFor(
      'every action recorded and committed',
      async () => {
        const o = await offsets(t.kafka, t.topic, groupId);
        return o.end === BigInt(ACTIONS) && o.committed === o.end;
      },
      120_000,
    );
    last.proc.kill('SIGTERM');
    await exited(last.proc);
    expect(last.output()).toContain('closed');

    const chains = await readChains(join(dir, 'audit'));
    const all = [...chains.values()].flat();
    expect(all).toHaveLength(ACTIONS);
    for (const [chain, entries] of chains) {
      const gapsOrDuplicates = entries.filter(
        (e, i) => e.source.offset !== String(i) || e.source.partition !== Number(chain),
      );
      expect(gapsOrDuplicates).toEqual([]);
    }
    expect(new Set(all.map((e) => e.eventId))).toEqual(produced);

    const keys = await loadAuditKeys({ keyFile });
    const subjectKeys = await openSubjectKeyFile(join(dir, 'audit', 'subject-keys.json'), keys);
    const result = await verifyChain(createSegmentStore({ dir: join(dir, 'audit') }), keys, {
      decrypt: true,
      subjectKeys,
    });
    expect(result).toMatchObject({ ok: true });
    expect(result.chains.reduce((n, c) => n + c.entries, 0)).toBe(ACTIONS);
  });
});
