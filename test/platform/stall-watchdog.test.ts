import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stallLimitFrom } from '../../platform/stall-watchdog.ts';

/** The event-loop stall guard, in child processes (it ends the process it guards). */
const fixture = join(import.meta.dirname, 'fixtures', 'stall.ts');

function run(
  mode: string,
): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  const child = spawn(process.execPath, [fixture, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, out, err })));
}

describe('event-loop stall guard', () => {
  it('ends a process whose event loop a microtask loop starves, saying why', {
    timeout: 30_000,
  }, async () => {
    const r = await run('spin');
    expect(r.signal).toBe('SIGKILL');
    expect(r.out).toContain('watching');
    const line = JSON.parse(r.err.split('\n').find((l) => l.includes('stall-watchdog')) ?? '{}');
    expect(line).toMatchObject({ component: 'stall-watchdog', name: 'stall-fixture', level: 60 });
    expect(line.stalledMs).toBeGreaterThan(2_000);
  });

  it('leaves a process whose timers turn alone, and does not keep it alive', {
    timeout: 30_000,
  }, async () => {
    const r = await run('idle');
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.out).toContain('done');
    expect(r.err).not.toContain('stall-watchdog');
  });

  it('reads TRIBUTARY_STALL_EXIT_MS: default 60 s, 0 is off, a bad value is named', () => {
    expect(stallLimitFrom({})).toBe(60_000);
    expect(stallLimitFrom({ TRIBUTARY_STALL_EXIT_MS: '0' })).toBe(0);
    expect(stallLimitFrom({ TRIBUTARY_STALL_EXIT_MS: '5000' })).toBe(5_000);
    for (const bad of ['abc', '-1', '500', '1.5'])
      expect(() => stallLimitFrom({ TRIBUTARY_STALL_EXIT_MS: bad })).toThrow(/TRIBUTARY_STALL_EXIT_MS/);
  });
});
