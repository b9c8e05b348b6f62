import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HubError } from '../../core/errors.ts';
import { loadHubConfig } from '../../hub/config.ts';
import { envNameOf } from '../../hub/config-env.ts';
import { defaultDeclarations } from '../../hub/run-support.ts';

const declarations = defaultDeclarations();
const temps: string[] = [];
afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

/** Runs loadHubConfig expecting CONFIG_INVALID; returns the error for its message. */
async function rejection(
  options: Omit<Parameters<typeof loadHubConfig>[0], 'declarations'>,
): Promise<HubError> {
  const err = await loadHubConfig({ declarations, env: {}, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HubError);
  expect((err as HubError).code).toBe('CONFIG_INVALID');
  return err as HubError;
}

describe('hub config', () => {
  it('fills every enabled component from its declaration and runs all of them by default', async () => {
    const config = await loadHubConfig({ declarations, env: {}, file: {} });
    expect(config.enabled).toEqual(declarations.map((d) => d.name));
    expect(config.http).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(config.demo).toBe(true);
  });

  it('names an unknown component', async () => {
    const err = await rejection({ file: { components: { 'processor.imagee': { concurrency: 2 } } } });
    expect(err.message).toContain('unknown component "processor.imagee"');
    expect(err.hint).toContain('processor.image');
  });

  it('names the component and the unknown key, also when nested', async () => {
    const top = await rejection({ file: { components: { audit: { fsynk: false } } } });
    expect(top.message).toBe('component audit: unknown key "fsynk"');
    expect(top.where.component).toBe('audit');
    expect(top.hint).toContain('fsync');

    const nested = await rejection({
      file: { components: { 'processor.image': { runner: { maxConcurent: 3 } } } },
    });
    expect(nested.message).toBe('component processor.image: unknown key "runner.maxConcurent"');
    expect(nested.hint).toContain('maxConcurrent');
  });

  it('names the component, the key and what is wrong with a bad value', async () => {
    const err = await rejection({ file: { components: { audit: { segmentBytes: -5 } } } });
    expect(err.message).toMatch(/^component audit: bad value at "segmentBytes": .*/);
    expect(err.where.field).toBe('segmentBytes');
    // Also in the section of a component this run leaves out.
    const off = await rejection({
      file: { components: { audit: { fsync: 'yes' } } },
      only: ['processor.chart'],
    });
    expect(off.message).toMatch(/^component audit: bad value at "fsync"/);
    const port = await rejection({ file: { http: { port: 'nine' } } });
    expect(port.message).toContain('http.port');
  });

  it('reads a YAML file and lets TRIBUTARY__ variables override it, parsed as JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-hub-config-'));
    temps.push(dir);
    const file = join(dir, 'tributary.yaml');
    await writeFile(file, 'enabled: [audit]\ncomponents:\n  audit:\n    fsync: true\n    dir: /from-file\n');
    const config = await loadHubConfig({
      declarations,
      file,
      env: {
        TRIBUTARY__AUDIT__FSYNC: 'false',
        TRIBUTARY__AUDIT__CHECKPOINT_EVERY: '7',
        TRIBUTARY_HTTP_PORT: '0',
      },
    });
    expect(config.enabled).toEqual(['audit']);
    expect(config.sections.audit).toEqual({ fsync: false, dir: '/from-file', checkpointEvery: 7 });
    expect(config.http.port).toBe(0);
    expect(envNameOf('mcp-bridge')).toBe('MCP_BRIDGE');
  });

  it('rejects a variable for no component, a bad value from the environment, and --only of an unknown name', async () => {
    const env = await rejection({ file: {}, env: { TRIBUTARY__NOPE__X: '1' } });
    expect(env.message).toContain('TRIBUTARY__NOPE__X');
    const value = await rejection({
      file: { enabled: ['audit'] },
      env: { TRIBUTARY__AUDIT__FSYNC: '"yes"' },
    });
    expect(value.message).toContain('component audit: bad value at "fsync"');
    const only = await rejection({ file: {}, only: ['audit', 'processor.nope'] });
    expect(only.message).toContain('unknown component "processor.nope" to run');
  });

  it('names the file that is not YAML', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tributary-hub-config-'));
    temps.push(dir);
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'components: [unclosed\n');
    const err = await rejection({ file });
    expect(err.where.file).toBe(file);
  });
});
