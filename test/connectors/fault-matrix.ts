import { describe, expect, it } from 'vitest';
import type { Fault } from '../../demo/faults.ts';
import { ACTIONS_TOPIC, deadLetterTopic } from '../../platform/index.ts';
import { newEnvelope } from '../../schemas/index.ts';
import type { Tally } from '../reliability/tally.ts';
import { uniqueName } from '../support/names.ts';
import type { ContractSubject } from './contract.ts';
import { useConnectorHarness, waitUntil } from './support/harness.ts';

/**
 * External faults (issue 10) against one system's real protocol server: its endpoint turns slow
 * (beyond the client timeout), answers 500 or 429, resets connections or sends half a response.
 * For each, commands pushed meanwhile are retried a bounded number of times (counted at the
 * server), the breaker opens and then closes, and once the fault clears each command is applied
 * once with nothing dead-lettered; a source sync through the same faults loses no change; a
 * command the system refuses (a permanent 4xx) goes to the DLQ at once, without retries.
 */

const RETRIES = 5; // http.retry.retries of the subjects
const SINK_RETRIES = 2;
const RESET_TIMEOUT_MS = 700; // http.endpoints.breaker.resetTimeoutMs of the subjects
const COMMANDS = 3;

const storms: Record<string, Fault> = {
  slow: { kind: 'slow', delayMs: 1_500 },
  '500': { kind: 'status', status: 500 },
  '429': { kind: 'rate-limit', retryAfterSeconds: 1 },
  reset: { kind: 'reset' },
  'half-response': { kind: 'half-response' },
};

interface Status {
  endpoints: { breaker: string }[];
  sink: { breakerPaused: boolean };
}

export function runEndpointFaults(subject: ContractSubject, tally: Tally): void {
  describe(`external faults at the ${subject.system} system`, () => {
    const harness = useConnectorHarness(subject, `${subject.system}-faults`);
    const setup = async (overrides: Record<string, unknown>) => {
      const { prefix, make, collect } = await harness.setup({ sinkRetries: SINK_RETRIES, ...overrides });
      return { prefix, connector: make(), collect };
    };

    const push = async (prefix: string, data: (key: string) => Record<string, unknown>) => {
      const key = uniqueName('cmd');
      const envelope = newEnvelope({
        type: subject.command.type,
        source: 'test',
        subject: key,
        actor: 'test',
      });
      await harness.hub.producer.publish(`${prefix}${subject.command.topic}`, [
        { envelope, data: data(key) },
      ]);
      return { key, id: envelope.id };
    };

    for (const [name, fault] of Object.entries(storms)) {
      it(`${name}: bounded retries, the breaker opens and closes, each command applied once, none dead-lettered`, {
        timeout: 60_000,
      }, async () => {
        const { prefix, connector, collect } = await setup({ source: false });
        const results = await collect(subject.command.resultTopic);
        const dlq = await collect(deadLetterTopic(subject.command.topic));
        const actions = await collect(ACTIONS_TOPIC);
        const status = () => connector.status() as unknown as Status;
        await connector.start();
        const faults = subject.faults();
        const hitsBefore = faults.hits[fault.kind] ?? 0;
        faults.inject(fault, 100_000, subject.command.isWrite);
        const sent: { key: string; id: string }[] = [];
        for (let i = 0; i < COMMANDS; i++) sent.push(await push(prefix, subject.command.data));
        await waitUntil(
          'the breaker opens and the sink pauses',
          () => status().endpoints[0]?.breaker === 'open' && status().sink.breakerPaused,
          status,
        );
        // While the breaker is open only its half-open probes reach the system.
        const atOpen = faults.hits[fault.kind] ?? 0;
        const windowMs = 2_000;
        await new Promise((r) => setTimeout(r, windowMs));
        const whileOpen = (faults.hits[fault.kind] ?? 0) - atOpen;
        faults.clear();
        await waitUntil(
          'every command succeeds after the fault clears',
          () =>
            sent.every(({ id }) =>
              results.events.some((e) => e.data.commandId === id && e.data.outcome === 'succeeded'),
            ),
          status,
        );
        await waitUntil('the breaker closes', () => status().endpoints[0]?.breaker === 'closed', status);
        const hits = (faults.hits[fault.kind] ?? 0) - hitsBefore;
        // Every try of every command, HTTP retries within each: the most the system can see.
        const bound = COMMANDS * (SINK_RETRIES + 1) * (RETRIES + 1);
        const applied = sent.map(({ key }) => subject.command.changesApplied(key));
        tally.add(
          { faultsInjected: 1, eventsChecked: COMMANDS, eventsLost: applied.filter((n) => n === 0).length },
          `${subject.system} ${name} storm: ${hits} faulty answers (bound ${bound}), ${whileOpen} while the breaker was open ${windowMs} ms, ${COMMANDS} commands applied ${JSON.stringify(applied)}`,
        );
        expect(hits).toBeGreaterThan(0);
        expect(hits).toBeLessThanOrEqual(bound);
        expect(whileOpen).toBeLessThanOrEqual(2 * Math.ceil(windowMs / RESET_TIMEOUT_MS) + 2);
        expect(applied).toEqual(sent.map(() => 1));
        expect(dlq.dead).toEqual([]);
        await waitUntil(
          'the breaker actions arrive',
          () => actions.events.some((e) => e.data.action === 'connector.breaker.closed'),
          status,
        );
        const names = new Set(actions.events.map((e) => String(e.data.action)));
        for (const a of ['connector.breaker.open', 'connector.breaker.half-open', 'connector.breaker.closed'])
          expect(names).toContain(a);
        await connector.close();
      });
    }

    it('a permanent refusal (4xx) goes to the DLQ with its reason after one request; a transient one never does', {
      timeout: 60_000,
    }, async () => {
      const { prefix, connector, collect } = await setup({ source: false });
      const results = await collect(subject.command.resultTopic);
      const dlq = await collect(deadLetterTopic(subject.command.topic));
      await connector.start();
      const faults = subject.faults();
      // A pass-through "fault" that only counts the writes reaching the system.
      faults.inject({ kind: 'slow', delayMs: 1 }, 100_000, subject.command.isWrite);
      const before = faults.hits.slow ?? 0;
      const refused = await push(prefix, subject.command.rejected);
      await waitUntil(
        'the refusal is dead-lettered',
        () => dlq.dead.length > 0,
        () => connector.status(),
      );
      const writes = (faults.hits.slow ?? 0) - before;
      faults.clear();
      // Then one 503 on the next command: retried and applied, not dead-lettered.
      faults.inject({ kind: 'status', status: 503 }, 1, subject.command.isWrite);
      const ok = await push(prefix, subject.command.data);
      await waitUntil(
        'the command after a 503 succeeds',
        () => results.events.some((e) => e.data.commandId === ok.id && e.data.outcome === 'succeeded'),
        () => connector.status(),
      );
      tally.add(
        { faultsInjected: 2, eventsChecked: 2 },
        `${subject.system}: a refused command dead-lettered after ${writes} request(s); a 503 retried and applied once`,
      );
      expect(writes).toBe(1);
      expect(dlq.dead).toHaveLength(1);
      expect(dlq.dead[0]?.info.errorCode).toBe('HTTP_REJECTED');
      expect(dlq.dead[0]?.info.errorMessage).not.toBe('');
      expect(results.events.find((e) => e.data.commandId === refused.id)?.data.outcome).toBe('failed');
      expect(subject.command.changesApplied(ok.key)).toBe(1);
      await connector.close();
    });

    it('a source sync through resets and 500s loses no change once the system answers again', {
      timeout: 60_000,
    }, async () => {
      const keys = await subject.createRecords(10, 'before');
      const { connector, collect } = await setup({ sink: false });
      const changes = await collect(subject.changeTopic);
      const faults = subject.faults();
      const reads = (req: Parameters<typeof subject.command.isWrite>[0]) =>
        !subject.command.isWrite(req) &&
        !String(req.url).includes('health') &&
        !String(req.url).includes('token');
      const hitsBefore = (faults.hits.reset ?? 0) + (faults.hits.status ?? 0);
      const hits = () => (faults.hits.reset ?? 0) + (faults.hits.status ?? 0) - hitsBefore;
      faults.inject({ kind: 'reset' }, 2, reads);
      faults.inject({ kind: 'status', status: 500 }, 100_000, reads);
      await connector.start();
      await waitUntil(
        'the sync meets the faults',
        () => hits() >= 4,
        () => connector.status(),
      );
      keys.push(...(await subject.createRecords(5, 'during')));
      await new Promise((r) => setTimeout(r, 500));
      faults.clear();
      const seen = () => new Set(changes.events.map((e) => String(e.data[subject.keyField])));
      await waitUntil(
        'every change is on the topic',
        () => keys.every((k) => seen().has(k)),
        () => connector.status(),
        45_000,
      );
      const source = await subject.sourceState();
      const invented = [...seen()].filter((k) => !source.has(k));
      tally.add(
        {
          faultsInjected: hits(),
          eventsChecked: keys.length,
          eventsLost: keys.filter((k) => !seen().has(k)).length,
        },
        `${subject.system} source sync through ${hits()} resets and 500s: ${keys.length} changes arrived, ${invented.length} invented`,
      );
      expect(invented).toEqual([]);
      await connector.close();
    });
  });
}
