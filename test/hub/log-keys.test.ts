import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';
import { type CliProcess, duplicateKeys, logLinesWithDuplicates, startCli } from './cli-process.ts';

/**
 * Every JSON log line of the hub has each key once. pino writes a binding again when a child
 * logger is given a key its parent has (`component` of the hub and of each component), and
 * JSON.parse hides it by keeping the last value; log shippers do not all do that.
 */
const temps: string[] = [];
const children: CliProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

describe('hub log lines', () => {
  it('the duplicate-key scan finds repeated keys at any depth and passes clean lines', () => {
    expect(duplicateKeys('{"level":30,"component":"hub","component":"audit"}')).toEqual(['component']);
    expect(duplicateKeys('{"a":{"b":[1,{"c":1,"c":"x\\"y"}]},"d":null}')).toEqual(['c']);
    expect(duplicateKeys('{"a":"{\\"a\\":1}","b":[true,false,-1.5e3]}')).toEqual([]);
    expect(() => duplicateKeys('{"a":1')).toThrow();
  });

  it('tributary up writes no JSON line with a key twice, and component lines name their component', {
    timeout: 150_000,
  }, async () => {
    const home = await mkdtemp(join(tmpdir(), 'tributary-logkeys-'));
    temps.push(home);
    const hub = startCli(
      ['up', '--only', 'audit,processor.image', '--no-demo'],
      {
        ...process.env,
        ...testKafka().env,
        TRIBUTARY_HOME: home,
        TRIBUTARY_HTTP_PORT: '0',
        TRIBUTARY_TOPIC_PREFIX: `${uniqueName('logkeys')}.`,
        TRIBUTARY__AUDIT__GROUP_ID: uniqueName('logkeys-audit'),
        TRIBUTARY__PROCESSOR_IMAGE__GROUP_ID: uniqueName('logkeys-image'),
        TRIBUTARY_LOG_LEVEL: 'info',
      },
      home,
    );
    children.push(hub);
    await hub.waitFor(/^ready: /m, 120_000);
    hub.proc.kill('SIGTERM');
    expect(await hub.exited()).toBe(0);

    const { lines, bad } = logLinesWithDuplicates(hub.stderr());
    expect(bad).toEqual([]);
    const parsed = hub
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { component?: string; msg?: string });
    // Lines of the hub itself and of each component were written (and scanned).
    expect(lines).toBeGreaterThan(5);
    expect(parsed.filter((p) => p.component === 'hub').length).toBeGreaterThan(0);
    for (const name of ['audit', 'processor.image'])
      expect(parsed.some((p) => p.component === name && p.msg === 'component started')).toBe(true);
  });
});
