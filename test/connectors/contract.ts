import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { FaultGate } from '../../demo/faults.ts';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { ACTIONS_TOPIC, DeadLetterHeaders, deadLetterTopic } from '../../platform/index.ts';
import { newEnvelope } from '../../schemas/index.ts';
import { uniqueName } from '../support/names.ts';
import { useConnectorHarness, waitUntil as waitWithStatus } from './support/harness.ts';
import type { Collected } from './support/topics.ts';

/**
 * The one contract every connector passes (as Redpanda Connect's StreamTests): full and
 * incremental sync, restart mid-sync without loss or skip, idempotent push under retries,
 * breaker storms that pause instead of dead-lettering, and bad records in the DLQ while good
 * ones flow. Each connector's test file supplies a subject backed by its real protocol server.
 */
export interface ContractSubject {
  system: string;
  declaration: ComponentDeclaration<never>;
  startSystem(): Promise<void>;
  stopSystem(): Promise<void>;
  faults(): FaultGate;
  /** Raw connector config against the running system (the suite adds prefix, offsets, paging). */
  config(): Record<string, unknown>;
  /** Records created for the restart test (default 120). */
  restartRecords?: number;
  /** The stream the suite follows, its canonical topic and the event field holding the key. */
  stream: string;
  changeTopic: string;
  keyField: string;
  /** Creates records at the source as the system's own users would; returns their keys. */
  createRecords(n: number, tag: string): Promise<string[]>;
  updateRecords(keys: string[]): Promise<void>;
  /** Creates a record the mapping must reject; returns its key. */
  createBadRecord(tag: string): Promise<string>;
  /** Creates a record that maps but breaks the Avro schema (e.g. a decimal beyond its precision). */
  createInvalidRecord?(tag: string): Promise<string>;
  /** Every key of the followed entity at the source, with its current modification stamp. */
  sourceState(): Promise<Map<string, string>>;
  command: {
    topic: string;
    resultTopic: string;
    type: string;
    keyField: string;
    data(key: string): Record<string, unknown>;
    /** A command the system refuses with a 4xx. */
    rejected(key: string): Record<string, unknown>;
    /** Changes the target holds for a key the command created. */
    changesApplied(key: string): number;
    isWrite(req: IncomingMessage): boolean;
  };
}

let current: { status(): unknown } | undefined;
const waitUntil = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) =>
  waitWithStatus(what, check, () => current?.status(), timeoutMs, 100);

export function runConnectorContract(subject: ContractSubject): void {
  describe(`connector contract: ${subject.system}`, () => {
    const harness = useConnectorHarness(subject);
    const setup = async (overrides: Record<string, unknown> = {}) => {
      const { prefix, make, collect } = await harness.setup({ sinkRetries: 3, ...overrides });
      return {
        prefix,
        collect,
        make: () => {
          const c = make();
          current = c;
          return c;
        },
      };
    };

    const ids = (c: Collected) => new Set(c.events.map((e) => e.envelope.id));
    const keysOf = (c: Collected) => new Set(c.events.map((e) => String(e.data[subject.keyField])));

    it('full sync, then incremental sync of only what changed', async () => {
      const keys = await subject.createRecords(20, 'full');
      const { make, collect } = await setup();
      const changes = await collect(subject.changeTopic);
      const connector = make();
      await connector.start();
      const state = await subject.sourceState();
      await waitUntil('every source record is published', () =>
        [...state.keys()].every((k) => keysOf(changes).has(k)),
      );
      expect(ids(changes).size).toBe(state.size);
      // Keyed by entity id, so one entity's changes stay in order on one partition.
      expect(changes.keys).toEqual(changes.events.map((e) => String(e.data[subject.keyField])));

      const before = ids(changes).size;
      const changed = keys.slice(0, 3);
      await subject.updateRecords(changed);
      const added = await subject.createRecords(2, 'incr');
      await waitUntil('the five changes are published', () => ids(changes).size >= before + 5);
      await new Promise((r) => setTimeout(r, 600));
      const fresh = changes.events.filter((e) => !changes.events.slice(0, before).includes(e));
      expect(ids(changes).size).toBe(before + 5);
      // A clean run re-sends nothing: every event so far is a distinct change.
      expect(changes.events).toHaveLength(before + 5);
      expect(new Set(fresh.map((e) => String(e.data[subject.keyField])))).toEqual(
        new Set([...changed, ...added]),
      );
      await connector.close();
    });

    it('resumes after a restart mid-sync without losing or skipping a change', async () => {
      await subject.createRecords(subject.restartRecords ?? 120, 'restart');
      const { make, collect } = await setup({ pageSize: 5 });
      const changes = await collect(subject.changeTopic);
      const first = make();
      await first.start();
      await waitUntil('a few pages are committed', () => keysOf(changes).size >= 30);
      await first.close();
      const state0 = await subject.sourceState();
      const early = [...state0.keys()].slice(0, 4);
      await subject.updateRecords(early);
      await subject.createRecords(6, 'after');
      const second = make();
      await second.start();
      const state = await subject.sourceState();
      const seen = () =>
        new Set(changes.events.map((e) => `${e.data[subject.keyField]}@${e.data.modifiedAt}`));
      const wanted = [...state].map(([k, stamp]) => `${k}@${Date.parse(stamp)}`);
      await waitUntil('every current version is published', () => {
        const s = seen();
        return wanted.every((w) => s.has(w));
      });
      expect(new Set(keysOf(changes))).toEqual(new Set(state.keys()));
      await second.close();
    });

    it('pushes with an idempotency key: five failures then success land exactly one change', async () => {
      const { prefix, make, collect } = await setup();
      const results = await collect(subject.command.resultTopic);
      const dlq = await collect(deadLetterTopic(subject.command.topic));
      const connector = make();
      await connector.start();
      const faults = subject.faults();
      const key = uniqueName('push');
      faults.inject({ kind: 'status', status: 500 }, 5, subject.command.isWrite);
      const send = async (k: string, data: Record<string, unknown>) => {
        const envelope = newEnvelope({
          type: subject.command.type,
          source: 'test',
          subject: k,
          actor: 'test-user',
        });
        await harness.hub.producer.publish(`${prefix}${subject.command.topic}`, [{ envelope, data }]);
        return envelope.id;
      };
      const id1 = await send(key, subject.command.data(key));
      await waitUntil('the push succeeds', () => results.events.some((e) => e.data.commandId === id1));
      const r1 = results.events.find((e) => e.data.commandId === id1)!;
      expect(r1.data.outcome).toBe('succeeded');
      expect(r1.envelope.causationId).toBe(id1);
      expect(subject.command.changesApplied(key)).toBe(1);

      // The system applies the write but its answer is lost: the retry must not apply it again.
      const key2 = uniqueName('push');
      faults.inject({ kind: 'apply-then-drop' }, 1, subject.command.isWrite);
      const id2 = await send(key2, subject.command.data(key2));
      await waitUntil('the second push succeeds', () => results.events.some((e) => e.data.commandId === id2));
      expect(subject.command.changesApplied(key2)).toBe(1);
      expect(dlq.dead).toHaveLength(0);
      await connector.close();
    });

    for (const storm of ['500', '429', 'timeout'] as const) {
      it(`opens the breaker in a ${storm} storm, pauses instead of dead-lettering, and recovers`, async () => {
        const { prefix, make, collect } = await setup({ source: false, sinkRetries: 2 });
        const results = await collect(subject.command.resultTopic);
        const dlq = await collect(deadLetterTopic(subject.command.topic));
        const actions = await collect(ACTIONS_TOPIC);
        const connector = make();
        await connector.start();
        const faults = subject.faults();
        const fault =
          storm === '500'
            ? ({ kind: 'status', status: 500 } as const)
            : storm === '429'
              ? ({ kind: 'rate-limit', retryAfterSeconds: 1 } as const)
              : ({ kind: 'slow', delayMs: 1_500 } as const);
        faults.inject(fault, 10_000);
        const sent: string[] = [];
        for (let i = 0; i < 3; i++) {
          const key = uniqueName(`storm${i}`);
          const envelope = newEnvelope({
            type: subject.command.type,
            source: 'test',
            subject: key,
            actor: 'test-user',
          });
          await harness.hub.producer.publish(`${prefix}${subject.command.topic}`, [
            { envelope, data: subject.command.data(key) },
          ]);
          sent.push(envelope.id);
        }
        await waitUntil('the breaker opens and the sink pauses', () => {
          const st = connector.status() as {
            endpoints: { breaker: string }[];
            sink: { breakerPaused: boolean };
          };
          return st.endpoints[0]!.breaker === 'open' && st.sink.breakerPaused;
        });
        faults.clear();
        await waitUntil('every command succeeds after recovery', () =>
          sent.every((id) =>
            results.events.some((e) => e.data.commandId === id && e.data.outcome === 'succeeded'),
          ),
        );
        expect(dlq.dead).toHaveLength(0);
        // The audit hears of the breaker, the pause and every push.
        await waitUntil(
          'the actions arrive',
          () => actions.events.filter((e) => e.data.action === 'connector.push').length >= 3,
        );
        const names = new Set(actions.events.map((e) => String(e.data.action)));
        for (const a of [
          'connector.breaker.open',
          'connector.breaker.half-open',
          'connector.breaker.closed',
          'connector.sink.paused',
        ]) {
          expect(names).toContain(a);
        }
        await connector.close();
      });
    }

    it('sends malformed payloads and mapping errors to the DLQ with reasons while good records flow', async () => {
      const badKey = await subject.createBadRecord('bad');
      const invalidKey = await subject.createInvalidRecord?.('bad');
      const goodKeys = await subject.createRecords(3, 'good');
      const { prefix, make, collect } = await setup();
      const changes = await collect(subject.changeTopic);
      const changeDlq = await collect(deadLetterTopic(subject.changeTopic));
      const results = await collect(subject.command.resultTopic);
      const cmdDlq = await collect(deadLetterTopic(subject.command.topic));
      const actions = await collect(ACTIONS_TOPIC);
      const connector = make();
      await connector.start();
      await waitUntil(
        'good records flow and the bad one is dead-lettered',
        () => goodKeys.every((k) => keysOf(changes).has(k)) && changeDlq.dead.some((d) => d.key === badKey),
      );
      expect(keysOf(changes).has(badKey)).toBe(false);
      const letter = changeDlq.dead.find((d) => d.key === badKey)!;
      expect(letter.info.stage).toBe('map');
      expect(letter.info.errorCode).toBe('MAPPING_FAILED');
      expect(letter.info.originalTopic).toBe(`${prefix}${subject.changeTopic}`);
      expect(letter.info.errorMessage).toMatch(/from /);
      if (invalidKey) {
        await waitUntil('the invalid record is dead-lettered', () =>
          changeDlq.dead.some((d) => d.key === invalidKey),
        );
        const invalid = changeDlq.dead.find((d) => d.key === invalidKey)!;
        expect(invalid.info.stage).toBe('validate');
        expect(keysOf(changes).has(invalidKey)).toBe(false);
      }
      await waitUntil('the failed batch is audited', () =>
        actions.events.some((e) => e.data.action === 'connector.sync.batch' && e.data.outcome === 'failed'),
      );

      // Commands: garbage bytes, one the system refuses, and a good one after them.
      await harness.hub.producer.publishRaw(`${prefix}${subject.command.topic}`, [
        { key: 'junk', value: Buffer.from('{"not":"avro"}') },
      ]);
      const refusedKey = uniqueName('refused');
      const refused = newEnvelope({
        type: subject.command.type,
        source: 'test',
        subject: refusedKey,
        actor: 'test-user',
      });
      await harness.hub.producer.publish(`${prefix}${subject.command.topic}`, [
        { envelope: refused, data: subject.command.rejected(refusedKey) },
      ]);
      const okKey = uniqueName('ok');
      const ok = newEnvelope({
        type: subject.command.type,
        source: 'test',
        subject: okKey,
        actor: 'test-user',
      });
      await harness.hub.producer.publish(`${prefix}${subject.command.topic}`, [
        { envelope: ok, data: subject.command.data(okKey) },
      ]);
      await waitUntil(
        'the good command succeeds and two letters arrive',
        () => results.events.some((e) => e.data.commandId === ok.id) && cmdDlq.dead.length >= 2,
      );
      const stages = cmdDlq.dead.map((d) => `${d.info.stage}:${d.info.errorCode}`).sort();
      expect(stages[0]).toMatch(/^decode:/);
      expect(stages[1]).toMatch(/^handle:HTTP_REJECTED$/);
      const failed = results.events.find((e) => e.data.commandId === refused.id)!;
      expect(failed.data.outcome).toBe('failed');
      expect(Number(failed.data.httpStatus)).toBeGreaterThanOrEqual(400);
      expect(String(failed.data.answer)).not.toBe('null');
      expect(subject.command.changesApplied(okKey)).toBe(1);
      expect(cmdDlq.dead[1]?.info.errorMessage ?? '').not.toBe('');
      expect(DeadLetterHeaders.stage).toBe('tributary.dlq.stage');
      await connector.close();
    });
  });
}
