import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCatalog, checkCompatibility, defaultSchemasRoot, loadCatalog } from '../../schemas/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const cli = path.join(here, 'support', 'schemas-cli.ts');
const temps: string[] = [];

afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A schemas root holding the repository's shared types plus one fixture's domain folders. */
async function fixtureRoot(name: string): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), `tributary-schemas-${name}-`));
  temps.push(root);
  await cp(path.join(defaultSchemasRoot, 'common'), path.join(root, 'common'), { recursive: true });
  await cp(path.join(fixtures, name), root, { recursive: true });
  return root;
}

async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], {
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('tributary schemas check', () => {
  const breaking: Array<[fixture: string, field: string, rule: string, extra: string]> = [
    ['field-removed', 'data.email', 'field-without-default', 'FORWARD: a v1 reader'],
    ['field-added-without-default', 'data.phone', 'field-without-default', 'BACKWARD: a v2 reader'],
    ['type-changed', 'data.reference', 'type-changed', 'from string to int'],
    ['enum-symbol-removed', 'data.status', 'enum-symbol-missing', 'LEAVE'],
    ['bad-union-default', 'data.note', 'invalid-default', "union's first branch"],
  ];

  it.each(breaking)('rejects %s, naming %s and the rule', async (fixture, field, rule, extra) => {
    const root = await fixtureRoot(fixture);
    const result = await runCli('schemas', 'check', '--dir', root);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(field);
    expect(result.stderr).toContain(rule);
    expect(result.stderr).toContain(extra);
    expect(result.stderr).toContain('schemas check:');
  });

  it('checks transitive modes against every earlier version, others against the previous one', async () => {
    const root = await fixtureRoot('transitive');
    const { violations } = await checkCatalog(root);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({
      path: 'data.qty',
      rule: 'field-without-default',
      newVersion: 3,
      oldVersion: 1,
    });
    expect(violations[0]?.message).toContain(
      'erp.StockChanged v3 -> v1: field data.qty added without a default',
    );
    const catalog = await loadCatalog(root);
    const [v1, v2, v3] = catalog.versions('tributary.erp.StockChanged');
    expect(checkCompatibility(v3!, [v1!, v2!], 'BACKWARD')).toEqual([]);
    expect(checkCompatibility(v3!, [v1!, v2!], 'FULL')).toEqual([]);
    expect(checkCompatibility(v2!, [v1!], 'FORWARD')).toEqual([]);
    expect(checkCompatibility(v1!, [v3!], 'FORWARD').map((v) => `${v.direction} ${v.path}`)).toEqual([
      'FORWARD data.qty',
    ]);
    expect(checkCompatibility(v1!, [v3!], 'BACKWARD')).toEqual([]);
    expect(checkCompatibility(v3!, [v1!], 'FORWARD')).toEqual([]);
    expect(checkCompatibility(v3!, [v1!], 'FULL').map((v) => `${v.direction} ${v.path}`)).toEqual([
      'BACKWARD data.qty',
    ]);
  });

  it('accepts promotions, widened unions, added symbols and defaulted fields', async () => {
    const root = await fixtureRoot('compatible');
    const result = await runCli('schemas', 'check', '--dir', root);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /schemas check: ok - \d+ schemas, \d+ versions, 1 compatibility comparisons/,
    );
    // The same pair is not FORWARD compatible: old readers lack the new enum symbol and union branch.
    const catalog = await loadCatalog(root);
    const [v1, v2] = catalog.versions('tributary.erp.ItemChanged');
    const forward = checkCompatibility(v2!, [v1!], 'FORWARD').map((v) => `${v.path} ${v.rule}`);
    expect(forward).toEqual([
      'data.count type-changed',
      'data.kind enum-symbol-missing',
      'data.tag union-branch-missing',
    ]);
  });

  it('passes on the repository schemas, lists them, and the committed generated types are fresh', async () => {
    const check = await runCli('schemas', 'check');
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('schemas check: ok');
    const list = await runCli('schemas', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('tributary.common.Envelope');
    const types = await runCli('schemas', 'types', '--check');
    expect(types.stderr).toBe('');
    expect(types.code).toBe(0);
  });

  it('reports stale generated types with exit 1', async () => {
    const root = await fixtureRoot('compatible');
    const stale = await runCli('schemas', 'types', '--check', '--dir', root);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('stale');
    const write = await runCli('schemas', 'types', '--dir', root);
    expect(write.code).toBe(0);
    const fresh = await runCli('schemas', 'types', '--check', '--dir', root);
    expect(fresh.code).toBe(0);
  });
});
