import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.ts';
import { formatPosition, parseFilters, parsePosition, replayIdFor } from '../../topology/replay/index.ts';

describe('replay positions and filters', () => {
  it('reads times, offsets and per-partition offsets the way the help says', () => {
    expect(parsePosition('earliest', '--from')).toEqual({ kind: 'earliest' });
    expect(parsePosition('2026-11-24T10:00:00Z', '--from')).toEqual({
      kind: 'time',
      timeMs: Date.parse('2026-11-24T10:00:00Z'),
    });
    expect(parsePosition('2026-11-24T10:00:00.250+01:00', '--from')).toEqual({
      kind: 'time',
      timeMs: Date.parse('2026-11-24T09:00:00.250Z'),
    });
    expect(parsePosition('1795518565500', '--from')).toEqual({ kind: 'time', timeMs: 1795518565500 });
    expect(parsePosition('time:1000', '--from')).toEqual({ kind: 'time', timeMs: 1000 });
    expect(parsePosition('120', '--from')).toEqual({ kind: 'offset', offset: 120n });
    expect(parsePosition('offset:1795518565500', '--from')).toEqual({
      kind: 'offset',
      offset: 1795518565500n,
    });
    expect(parsePosition('0:120,2:7', '--from')).toEqual({
      kind: 'partitions',
      offsets: new Map([
        [0, 120n],
        [2, 7n],
      ]),
    });
    expect(formatPosition(parsePosition('0:120,2:7', '--from'))).toBe('0:120,2:7');
  });

  it('refuses what it cannot read, naming the option', () => {
    for (const bad of ['yesterday', 'May', '-5', '1:2:3', '']) {
      expect(() => parsePosition(bad, '--to')).toThrow(UsageError);
    }
    expect(() => parsePosition('soon', '--to')).toThrow('--to "soon"');
  });

  it('parses type filters, and the default replay id depends on every argument', () => {
    expect(parseFilters(['type=a.B,c.D', 'type=e.F'])).toEqual({ types: ['a.B', 'c.D', 'e.F'] });
    expect(() => parseFilters(['kind=x'])).toThrow(UsageError);
    const base = { topic: 't', into: 'u', from: 'earliest', to: 'latest', filter: ['a'] };
    expect(replayIdFor(base)).toBe(replayIdFor({ ...base }));
    expect(replayIdFor(base)).not.toBe(replayIdFor({ ...base, to: 'offset:5' }));
    expect(replayIdFor(base)).not.toBe(replayIdFor({ ...base, filter: [] }));
  });
});
