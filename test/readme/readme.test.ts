import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/main.ts';
import { topologyToMermaid } from '../../topology/graph.ts';
import { buildHubTopology } from '../../topology/hub-topology.ts';

/** README's promises, checked so they cannot rot: the two commands, the config table, the picture. */
const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const sourceFolders = [
  'core',
  'schemas',
  'platform',
  'kit',
  'topology',
  'hub',
  'cli',
  'connectors',
  'processors',
  'audit',
  'mcp-bridge',
  'demo',
];
/** Variables of the OS or other tools, not the hub's own configuration. */
const notConfiguration = new Set(['PATH', 'USER', 'HOME', 'JAVA_HOME', 'TMPDIR', 'CI', 'NODE_ENV']);

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function section(title: string): string {
  const start = readme.indexOf(`## ${title}`);
  expect(start, `README has a "## ${title}" section`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 3);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe('README', () => {
  it('opens with a quick start of exactly two commands, npm start and npm test, which CI runs', () => {
    const quick = section('Quick start');
    const block = /```sh\n([\s\S]*?)```/.exec(quick)?.[1] ?? '';
    const commands = block
      .split('\n')
      .map((line) => line.replace(/#.*$/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['npm start', 'npm test']);
    expect(/^## (.*)$/m.exec(readme)?.[1], 'the first section of README').toBe('Quick start');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toBe('bash scripts/start.sh');
    expect(pkg.scripts.test).toBe('bash scripts/test.sh');
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    expect(
      ci
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('#') && !l.startsWith('set ') && !l.startsWith('cd ')),
    ).toEqual(['npm test']);
  });

  it('lists every environment variable the code reads in its configuration table', () => {
    const table = section('Configuration');
    const documented = new Set([...table.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
    const read = new Map<string, string>();
    for (const file of sourceFolders.flatMap((f) => sourceFiles(join(root, f)))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\benv\??\.([A-Z][A-Z0-9_]{2,})\b|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g)) {
        const name = m[1] ?? m[2]!;
        if (!notConfiguration.has(name) && !read.has(name)) read.set(name, relative(root, file));
      }
    }
    expect(read.size).toBeGreaterThan(10);
    const missing = [...read]
      .filter(([name]) => !documented.has(name))
      .map(([n, f]) => `${n} (read in ${f})`);
    expect(missing, 'add these to README "## Configuration"').toEqual([]);
  });

  it('shows the topology as the graph command draws it from the declarations', () => {
    const block = /<!-- topology:begin -->\n```mermaid\n([\s\S]*?)```\n<!-- topology:end -->/.exec(
      readme,
    )?.[1];
    const expected = topologyToMermaid(buildHubTopology(), { includeDerived: false });
    expect(
      block?.trim(),
      'run `bin/tributary topology graph --format mermaid --no-derived` and paste it into README',
    ).toBe(expected.trim());
  });

  it('names only CLI commands that exist', () => {
    const program = buildProgram();
    const groups = new Set(program.commands.map((c) => c.name()));
    const named = [...section('The CLI').matchAll(/^\| `tributary ([a-z-]+)/gm)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((g) => !groups.has(g))).toEqual([]);
  });
});
