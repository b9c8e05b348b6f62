import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePorts, isPortFree } from '../../kit/ports.ts';

function ephemeralLow(): number {
  const text = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  return Number(text.trim().split(/\s+/)[0]);
}

describe('free ports for the local brokers', () => {
  it('are distinct, bindable, and outside the range outgoing connections take theirs from', async () => {
    const ports = await freePorts(12);
    expect(new Set(ports).size).toBe(12);
    for (const port of ports) expect(await isPortFree(port)).toBe(true);
    const low = ephemeralLow();
    // With room below the ephemeral range (Linux's default starts at 32768), none is inside it.
    if (low - 15_000 >= 1000) for (const port of ports) expect(port).toBeLessThan(low);
    for (const port of ports) expect(port).toBeGreaterThanOrEqual(1024);
  });
});
