import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hubDeclarations } from '../../topology/declarations.ts';
import { buildHubTopology, catalogSchemaCheck } from '../../topology/hub-topology.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const componentFolders = ['platform', 'hub', 'connectors', 'processors', 'audit', 'mcp-bridge'];

function looksLikeDeclaration(value: unknown): value is { name: string } {
  const v = value as { name?: unknown; kind?: unknown; topics?: unknown; create?: unknown };
  return (
    typeof v?.name === 'string' &&
    typeof v.kind === 'string' &&
    Array.isArray(v.topics) &&
    typeof v.create === 'function'
  );
}

/** Component names declared by every `declaration.ts` in the component folders. */
async function declaredInTree(): Promise<string[]> {
  const names: string[] = [];
  for (const folder of componentFolders) {
    const files = (await readdir(path.join(root, folder), { recursive: true })).filter(
      (f) => path.basename(f) === 'declaration.ts' || path.basename(f) === 'hub-declaration.ts',
    );
    for (const file of files) {
      const mod = (await import(pathToFileURL(path.join(root, folder, file)).href)) as Record<
        string,
        unknown
      >;
      for (const value of Object.values(mod)) {
        // A declaration factory (the bridge's) takes the hub's list lazily.
        const candidate =
          typeof value === 'function' && value.length === 1
            ? (value as (l: () => []) => unknown)(() => [])
            : value;
        if (looksLikeDeclaration(candidate)) names.push(candidate.name);
      }
    }
  }
  return [...new Set(names)].sort();
}

describe('the hub declarations list', () => {
  it('holds every component declaration in the tree, once', async () => {
    const listed = hubDeclarations.map((d) => d.name);
    expect(new Set(listed).size).toBe(listed.length);
    const inTree = await declaredInTree();
    expect(inTree.length).toBeGreaterThan(0);
    for (const name of inTree)
      expect(listed, `${name} is declared but not in topology/declarations.ts`).toContain(name);
  });

  it('builds into a valid topology whose value schemas are all in the catalog', async () => {
    const topology = buildHubTopology({ schemaExists: await catalogSchemaCheck() });
    expect(topology.components.map((c) => c.name).sort()).toEqual(hubDeclarations.map((d) => d.name).sort());
    expect(topology.topics.some((t) => t.name === 'hub.actions')).toBe(true);
  });
});
