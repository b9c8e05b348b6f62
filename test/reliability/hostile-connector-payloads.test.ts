import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as crm from '../../connectors/crm/mapping.ts';
import * as erp from '../../connectors/erp/mapping.ts';
import * as hr from '../../connectors/hr/mapping.ts';
import { HubError } from '../../core/errors.ts';
import { type Mutator, mutator, runSeed, seededRandom } from './hostile-bytes.ts';
import { createTally } from './tally.ts';

/**
 * Hostile payloads from the ERP, CRM and HR systems into the connectors' field mappings (the
 * first thing a source does with a record): 10,000 records with wrong types, missing fields,
 * huge or odd strings, deep nesting and prototype-pollution keys. Each maps or fails with a
 * MAPPING_FAILED HubError naming the field; nothing else is thrown and no prototype is touched.
 */

const tally = createTally(import.meta.filename);
afterAll(() => void tally.report());

const seed = runSeed();
const PAYLOADS = 10_000;
const root = join(import.meta.dirname, '..', '..', 'connectors');

type Mapping = { apply(record: unknown): Record<string, unknown> };
const mappings: [string, Mapping][] = [
  ...Object.entries(crm).map(([n, m]) => [`crm.${n}`, m] as [string, unknown]),
  ...Object.entries(erp).map(([n, m]) => [`erp.${n}`, m] as [string, unknown]),
  ...Object.entries(hr).map(([n, m]) => [`hr.${n}`, m] as [string, unknown]),
].filter((e): e is [string, Mapping] => typeof (e[1] as Mapping | undefined)?.apply === 'function');

/** The system field names the mappings read (their `from` paths' first segment). */
async function systemKeys(): Promise<string[]> {
  const keys = new Set<string>();
  for (const system of ['crm', 'erp', 'hr']) {
    const text = await readFile(join(root, system, 'mapping.ts'), 'utf8');
    for (const [, path] of text.matchAll(/from: '([^']+)'/g)) keys.add(path!.split(/[.[]/)[0]!);
  }
  return [...keys];
}

function hostileValue(m: Mutator, depth = 0): unknown {
  switch (m.int(depth > 2 ? 10 : 13)) {
    case 0:
      return null;
    case 1:
      return undefined;
    case 2:
      return m.pick([Number.NaN, Number.POSITIVE_INFINITY, -0, 1e308, -1e-308, 2 ** 53 + 1, 42]);
    case 3:
      return m.pick([true, false]);
    case 4:
      return m.pick([
        '',
        ' ',
        'x'.repeat(100_000),
        '\u0000\ud800',
        '9999-99-99T99:99:99Z',
        '1e400',
        '12,50',
        'NaN',
      ]);
    case 5:
      return m.pick(['2026-01-01T00:00:00Z', '/Date(1700000000000)/', '12.345', 'true', 'ok']);
    case 6:
      return m.bytes(m.int(30)).toString('latin1');
    case 7:
      return Symbol('x').description;
    case 8:
      return BigInt(m.int(1000)).toString();
    case 9:
      return new Date(m.int(2 ** 40));
    case 10:
      return Array.from({ length: m.int(4) }, () => hostileValue(m, depth + 1));
    case 11:
      return JSON.parse(
        '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
      );
    default:
      return Object.fromEntries(
        Array.from({ length: m.int(5) }, (_, i) => [`k${i}`, hostileValue(m, depth + 1)]),
      );
  }
}

describe(`hostile connector payloads (seed ${seed})`, () => {
  it(`${PAYLOADS} system records into the ERP, CRM and HR mappings: mapped, or MAPPING_FAILED naming the field`, async () => {
    expect(mappings.length).toBeGreaterThanOrEqual(8);
    const keys = await systemKeys();
    const m = mutator(seededRandom(seed));
    const outcomes = new Map<string, number>();
    for (let i = 0; i < PAYLOADS; i++) {
      const [name, mapping] = m.pick(mappings);
      const record =
        m.int(20) === 0
          ? hostileValue(m)
          : Object.fromEntries(keys.filter(() => m.int(3) > 0).map((k) => [k, hostileValue(m)]));
      if (m.int(10) === 0 && typeof record === 'object' && record !== null) {
        Object.assign(record, JSON.parse('{"__proto__": {"polluted": true}}'));
      }
      let outcome = 'mapped';
      try {
        const data = mapping.apply(record);
        expect(typeof data).toBe('object');
      } catch (err) {
        if (!(err instanceof HubError) || err.code !== 'MAPPING_FAILED') {
          throw new Error(
            `${name} payload #${i} (seed ${seed}) threw ${err instanceof HubError ? err.code : String(err)}`,
          );
        }
        expect(err.message.length).toBeGreaterThan(10);
        outcome = 'MAPPING_FAILED';
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(outcomes.get('MAPPING_FAILED')).toBeGreaterThan(0);
    tally.add(
      { inputsTried: PAYLOADS },
      `connector payloads: ${PAYLOADS} records over ${mappings.length} mappings (${mappings.map(([n]) => n).join(', ')}) -> ${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}`,
    );
  });
});
