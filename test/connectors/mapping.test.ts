import { describe, expect, it } from 'vitest';
import { normaliseDecimal, toDecimalString } from '../../connectors/runtime/coerce.ts';
import { compileMapping } from '../../connectors/runtime/mapping.ts';
import { HubError } from '../../core/errors.ts';

const scimUser = {
  id: 'u-1',
  userName: ' Ada.Lovelace ',
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [
    { value: 'ada@home.test', primary: false },
    { value: 'ada@work.test', primary: true },
  ],
  active: 'true',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: '701', department: 'R&D' },
  meta: { lastModified: '2026-01-02T03:04:05.678Z' },
};

const userMapping = compileMapping({
  userId: { from: 'id', readOnly: true },
  login: { from: 'userName', transform: 'trim', reverseTransform: (v) => v },
  givenName: 'name.givenName',
  familyName: 'name.familyName',
  email: { from: 'emails[primary=true].value', transform: 'lower' },
  active: { type: 'boolean' },
  employeeNumber: {
    from: '["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].employeeNumber',
    type: 'int',
  },
  department: {
    from: '["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].department',
    nullable: true,
  },
  costCenter: { from: 'costCenter', default: 'none' },
  modifiedAt: { from: 'meta.lastModified', type: 'timestamp-millis', readOnly: true },
});

describe('declarative mapping', () => {
  it('maps nested paths, selectors, quoted keys, renames, coercions, defaults and transforms', () => {
    expect(userMapping.apply(scimUser)).toEqual({
      userId: 'u-1',
      login: 'Ada.Lovelace',
      givenName: 'Ada',
      familyName: 'Lovelace',
      email: 'ada@work.test',
      active: true,
      employeeNumber: 701,
      department: 'R&D',
      costCenter: 'none',
      modifiedAt: Date.parse('2026-01-02T03:04:05.678Z'),
    });
  });

  it('reverses a partial update into the system shape, skipping read-only fields', () => {
    const back = userMapping.reverse({
      userId: 'x',
      givenName: 'Grace',
      employeeNumber: 9,
      email: 'g@x.test',
      modifiedAt: 1,
    });
    expect(back).toEqual({
      name: { givenName: 'Grace' },
      emails: [{ primary: true, value: 'g@x.test' }],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: 9 },
    });
  });

  it('normalises decimals to their scale and refuses to lose digits', () => {
    const m = compileMapping({
      amount: { type: 'decimal', scale: 2 },
      total: { type: 'decimal', scale: 2, from: 'sum' },
    });
    expect(m.apply({ amount: 12.5, sum: '0100.10' })).toEqual({ amount: '12.50', total: '100.10' });
    expect(() => m.apply({ amount: '1.234', sum: '1' })).toThrow(
      /amount \(from amount\) 1\.234 has more than 2 fraction digits/,
    );
    expect(m.reverse({ amount: '12.50' })).toEqual({ amount: 12.5 });
  });

  it('normalises a decimal on its fast path exactly as on the general path, and refuses the same', () => {
    const outcome = (f: () => string) => {
      try {
        return f();
      } catch (err) {
        return `error: ${(err as Error).message}`;
      }
    };
    const numbers = [
      0,
      -0,
      7,
      -7,
      12.5,
      -12.5,
      10.25,
      0.5,
      -0.5,
      0.001,
      0.0001,
      1249.5,
      0.1 + 0.2,
      1e21,
      1e-7,
    ];
    const texts = ['10.25', '-0.5', '+5', '007', ' 5 ', '5.', '.5', '1.2300', '-0', '-0.00', '0', '0.0'];
    const more = ['12345678901234567890.12', '', 'abc', '1e3', '1.005', '-', '12.3.4', '١٢', '9'.repeat(40)];
    let compared = 0;
    for (const scale of [0, 2, 3, 40]) {
      for (const v of [...numbers, ...texts, ...more]) {
        expect(
          outcome(() => toDecimalString(v, scale)),
          `${JSON.stringify(v)} at scale ${scale}`,
        ).toBe(outcome(() => normaliseDecimal(v, scale)));
        compared += 1;
      }
    }
    // Every integer and every value with up to 3 fraction digits in a range, as text and as number.
    for (let i = -2000; i <= 2000; i += 1) {
      for (const v of [i / 1000, String(i / 1000), i, `${i}.0`]) {
        expect(toDecimalString(v, 3)).toBe(normaliseDecimal(v, 3));
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(16_000);
    expect(toDecimalString(1249.5, 2)).toBe('1249.50');
    expect(toDecimalString('-0.5', 3)).toBe('-0.500');
    expect(toDecimalString(-0, 2)).toBe('0.00');
  });

  it('maps lists of records and names the element that failed', () => {
    const m = compileMapping({
      orderId: 'ID',
      items: { from: 'items', items: { line: { type: 'int' }, quantity: { type: 'decimal', scale: 3 } } },
    });
    expect(m.apply({ ID: 'SO1', items: [{ line: 1, quantity: '2' }] })).toEqual({
      orderId: 'SO1',
      items: [{ line: 1, quantity: '2.000' }],
    });
    let caught: unknown;
    try {
      m.apply({
        ID: 'SO1',
        items: [
          { line: 1, quantity: '2' },
          { line: 'two', quantity: 'lots' },
        ],
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HubError);
    const e = caught as HubError;
    expect(e.code).toBe('MAPPING_FAILED');
    expect(e.where.field).toBe('items[1].line');
    expect(e.message).toContain('items[1].quantity (from items[1].quantity) "lots" is not a decimal number');
  });

  it('reports every missing required field, and accepts null only where nullable', () => {
    const m = compileMapping({ id: 'Id', name: 'Name', phone: { from: 'Phone', nullable: true } });
    expect(m.apply({ Id: '1', Name: 'n', Phone: null })).toEqual({ id: '1', name: 'n', phone: null });
    expect(() => m.apply({ Name: null })).toThrow(/id \(from Id\) is missing; name \(from Name\) is missing/);
  });

  it('rejects an unknown transform when the mapping is compiled', () => {
    expect(() => compileMapping({ a: { transform: 'rot13' } })).toThrow(/unknown transform "rot13"/);
  });
});
