import { describe, expect, it } from 'vitest';
import { loopSlices } from '../../core/loop-slices.ts';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('loop slices', () => {
  it('are due once the slice time has passed, and a turn runs what was queued meanwhile', async () => {
    const slices = loopSlices(2);
    expect(slices.due()).toBe(false);
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    busy(3);
    expect(ran).toBe(false);
    expect(slices.due()).toBe(true);
    await slices.turn();
    expect(ran).toBe(true);
    // The turn began a new slice.
    expect(slices.due()).toBe(false);
  });
});
