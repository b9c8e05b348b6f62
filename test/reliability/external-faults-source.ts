import { describe, expect, it } from 'vitest';
import { ACTIONS_TOPIC } from '../../platform/index.ts';
import type { ContractSubject } from '../connectors/contract.ts';
import { dataRequest, faultKinds, type Harness, RETRIES, waitUntil } from './external-faults-harness.ts';
import type { Tally } from './tally.ts';

/**
 * A source sync (issue 10) while the system's read endpoint is slow, answers 500 or 429, resets
 * connections or sends half a response. While the fault lasts, records change in the system.
 * Checked: the system sees one request's attempts and then only the breaker's half-open probes
 * (counted at the server); the connector's status() shows the breaker open; once the fault
 * clears, the breaker half-opens and closes and the topic holds every version the system has,
 * with the system's values, and no version the system never had.
 */

/** What updateRecords of each subject changes, so the test can see the new value on the topic. */
const updated: Record<string, { field: string; is(value: unknown): boolean }> = {
  erp: { field: 'name', is: (v) => String(v).startsWith('Renamed ') },
  crm: { field: 'industry', is: (v) => v === 'Retail' },
  hr: { field: 'department', is: (v) => v === 'Finance' },
};

export function runSourceFaults(subject: ContractSubject, harness: Harness, tally: Tally): void {
  describe(`source sync of the ${subject.system} system through external faults`, () => {
    for (const [name, fault] of Object.entries(faultKinds)) {
      it(`${name}: bounded attempts, the breaker opens, half-opens and closes, every change arrives as the system has it`, async () => {
        const versions = new Set<string>();
        const snapshot = async () => {
          const state = await subject.sourceState();
          for (const [k, stamp] of state) versions.add(`${k}@${Date.parse(stamp)}`);
          return state;
        };
        const before = await subject.createRecords(4, 'xf-pre');
        await snapshot();
        const { connector, status, collect } = await harness.connector({ sink: false });
        // Faults cleared and the connector closed whatever happens: left as they are, they would skew the next case.
        try {
          const changes = await collect(subject.changeTopic);
          const actions = await collect(ACTIONS_TOPIC);
          const transitions = () =>
            actions.events
              .map((e) => String(e.data.action))
              .filter((a) => a.startsWith('connector.breaker.'))
              .map((a) => a.slice('connector.breaker.'.length));
          const faults = subject.faults();
          // When each failing answer was given, to see that a Retry-After is waited out.
          const answeredAt: number[] = [];
          const reads = (req: Parameters<typeof dataRequest>[0]) => {
            const yes = dataRequest(req) && !subject.command.isWrite(req);
            if (yes) answeredAt.push(performance.now());
            return yes;
          };
          const hitsBefore = faults.hits[fault.kind] ?? 0;
          const hits = () => (faults.hits[fault.kind] ?? 0) - hitsBefore;
          faults.inject(fault, 1_000_000, reads);
          await connector.start();

          await waitUntil('the breaker opens', () => status().endpoints[0]?.breaker === 'open', status);
          const atOpen = hits();
          // The system changes while it fails: two updates and two new records.
          await subject.updateRecords(before.slice(0, 2));
          const created = await subject.createRecords(2, 'xf-during');
          await snapshot();
          // A probe at half-open fails and opens the breaker again: each half-open lets one through.
          await waitUntil(
            'the first probe fails',
            () => transitions().filter((t) => t === 'open').length >= 2,
            status,
          );
          const duringFault = hits();
          const halfOpens = transitions().filter((t) => t === 'half-open').length;
          const published = changes.events.length;
          faults.clear();

          await waitUntil('the breaker closes', () => transitions().at(-1) === 'closed', status);
          const state = await snapshot();
          const latest = () => {
            const m = new Map<string, Record<string, unknown>>();
            for (const e of changes.events) m.set(String(e.data[subject.keyField]), e.data);
            return m;
          };
          const current = (k: string, stamp: string) => latest().get(k)?.modifiedAt === Date.parse(stamp);
          await waitUntil(
            'every record is on the topic as the system has it',
            () => [...state].every(([k, stamp]) => current(k, stamp)),
            status,
          );
          const lost = [...state].filter(([k, stamp]) => !current(k, stamp)).length;
          const seen = changes.events.map((e) => `${e.data[subject.keyField]}@${e.data.modifiedAt}`);
          const invented = seen.filter((v) => !versions.has(v));
          const check = updated[subject.system]!;
          const changedValues = before.slice(0, 2).map((k) => latest().get(k)?.[check.field]);
          const gaps = answeredAt.slice(1).map((t, i) => Math.round(t - answeredAt[i]!));
          tally.add(
            { faultsInjected: hits(), eventsChecked: state.size, eventsLost: lost },
            `${subject.system} source, ${name}: ${atOpen} attempts until the breaker opened, ${duringFault} in all over ${halfOpens} half-open probes, ${published} events published while failing, ${state.size} records current after, ${invented.length} invented; gaps between failing answers ${gaps.join(', ')} ms`,
          );

          // One request's attempts, then nothing but one probe per half-open.
          expect(atOpen).toBeGreaterThan(0);
          expect(atOpen).toBeLessThanOrEqual(RETRIES + 1);
          expect(duringFault).toBeLessThanOrEqual(RETRIES + 1 + halfOpens);
          expect(published).toBe(0);
          expect(transitions().slice(0, 3)).toEqual(['open', 'half-open', 'open']);
          expect(transitions().slice(-2)).toEqual(['half-open', 'closed']);
          expect(invented).toEqual([]);
          expect(lost).toBe(0);
          for (const k of created) expect(state.has(k)).toBe(true);
          expect(changedValues.every((v) => check.is(v))).toBe(true);
          // A 429's Retry-After is waited out before the next request, the breaker's probe included.
          if (fault.kind === 'rate-limit')
            for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(fault.retryAfterSeconds * 1000 - 20);
        } finally {
          subject.faults().clear();
          await connector.close();
        }
      });
    }
  });
}
