import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HubError } from '../../core/errors.ts';
import { inlineSharedTypes } from './inline-common.ts';
import { definedName, isNamedDefinition } from './names.ts';
import type { AvroSchemaJson, AvroSchemaObject, CatalogEntry, SchemaCatalog } from './types.ts';
import { findSchemaProblems, type SchemaProblem } from './validate.ts';

/** Namespace whose named types every other schema may reference by name (inlined on load). */
export const SHARED_NAMESPACE = 'tributary.common';

/** The repository's `schemas/` folder. */
export const defaultSchemasRoot = fileURLToPath(new URL('..', import.meta.url));

const FILE_NAME = /^([a-z0-9]+(?:-[a-z0-9]+)*)(?:\.v([1-9]\d*))?\.avsc$/;

/** One .avsc file as read from disk, before it becomes a catalog entry. */
export interface SchemaFile {
  /** Relative to the root, `/`-separated. */
  file: string;
  /** First folder under the root (`crm`, `common`...). */
  domain: string;
  baseName: string;
  version: number;
  name: string;
  raw: AvroSchemaObject;
}

/** A problem with one file, located as precisely as the schema allows. */
export interface FileProblem extends SchemaProblem {
  file: string;
}

/** Result of reading a folder of schemas: the entries that loaded and every problem found. */
export interface CatalogScan {
  files: SchemaFile[];
  entries: CatalogEntry[];
  problems: FileProblem[];
}

const SKIPPED_DIRS = new Set(['generated', 'node_modules', 'src', 'fixtures']);

async function listAvsc(root: string, rel = ''): Promise<string[]> {
  const dirents = await readdir(path.join(root, rel), { withFileTypes: true });
  const out: string[] = [];
  for (const d of dirents.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory() && !SKIPPED_DIRS.has(d.name) && !d.name.startsWith('.'))
      out.push(...(await listAvsc(root, child)));
    else if (d.isFile() && d.name.endsWith('.avsc')) out.push(child);
  }
  return out;
}

async function readSchemaFile(
  root: string,
  file: string,
  problems: FileProblem[],
): Promise<SchemaFile | undefined> {
  const base = path.posix.basename(file);
  const match = FILE_NAME.exec(base);
  if (!match) {
    problems.push({
      file,
      path: '',
      rule: 'file-name',
      message: `${file}: name must be <kebab-name>.v<N>.avsc`,
    });
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path.join(root, file), 'utf8'));
  } catch (err) {
    problems.push({ file, path: '', rule: 'invalid-json', message: `${file}: ${(err as Error).message}` });
    return undefined;
  }
  if (!isNamedDefinition(raw)) {
    problems.push({
      file,
      path: '',
      rule: 'invalid-schema',
      message: `${file}: top level must be a named type`,
    });
    return undefined;
  }
  const segments = file.split('/');
  return {
    file,
    domain: segments.length > 1 ? (segments[0] ?? '') : '',
    baseName: match[1] ?? '',
    version: match[2] ? Number(match[2]) : 1,
    name: definedName(raw, undefined),
    raw,
  };
}

/**
 * Reads every .avsc under `root` and builds entries; never throws for a bad schema, it reports.
 * Shared `tributary.common.*` types are inlined into each schema that references them.
 */
export async function scanCatalog(root: string = defaultSchemasRoot): Promise<CatalogScan> {
  const problems: FileProblem[] = [];
  const files: SchemaFile[] = [];
  for (const file of await listAvsc(root)) {
    const parsed = await readSchemaFile(root, file, problems);
    if (parsed) files.push(parsed);
  }
  const seen = new Map<string, string>();
  for (const f of files) {
    const key = `${f.name}@${f.version}`;
    const other = seen.get(key);
    if (other) {
      problems.push({
        file: f.file,
        path: '',
        rule: 'duplicate-version',
        message: `${f.file}: ${f.name} v${f.version} is also defined in ${other}`,
      });
    }
    seen.set(key, f.file);
  }
  // The latest version of each shared type is what other schemas embed.
  const shared = new Map<string, AvroSchemaJson>();
  const sharedVersion = new Map<string, number>();
  for (const f of files) {
    if (!f.name.startsWith(`${SHARED_NAMESPACE}.`)) continue;
    if ((sharedVersion.get(f.name) ?? 0) < f.version) {
      shared.set(f.name, f.raw);
      sharedVersion.set(f.name, f.version);
    }
  }
  const entries: CatalogEntry[] = [];
  for (const f of files) {
    const schema = inlineSharedTypes(f.raw, shared) as AvroSchemaObject;
    const { problems: found, type } = findSchemaProblems(schema);
    for (const p of found) problems.push({ ...p, file: f.file, message: `${f.file}: ${p.message}` });
    if (type) entries.push({ name: f.name, version: f.version, file: f.file, schema, type });
  }
  return { files, entries, problems };
}

/** Builds the lookup structure over loaded entries. */
export function catalogFromEntries(entries: CatalogEntry[]): SchemaCatalog {
  const byName = new Map<string, CatalogEntry[]>();
  for (const e of entries) byName.set(e.name, [...(byName.get(e.name) ?? []), e]);
  for (const list of byName.values()) list.sort((a, b) => a.version - b.version);
  const listOf = (name: string): CatalogEntry[] => {
    const list = byName.get(name);
    if (!list) {
      throw new HubError('SCHEMA_UNKNOWN', `no schema named ${name} in the catalog`, {
        where: { schema: name },
        hint: 'add schemas/<domain>/<kebab-name>.v1.avsc defining it, or fix the name',
      });
    }
    return list;
  };
  return {
    names: () => [...byName.keys()].sort(),
    has: (name) => byName.has(name),
    versions: (name) => [...listOf(name)],
    // Called per encoded event: no copy of the list.
    latest: (name) => listOf(name).at(-1) as CatalogEntry,
  };
}

/**
 * Loads the schema catalog (default: this repository's schemas/ folder). Throws SCHEMA_INVALID
 * listing every file and field at fault when a schema doesn't parse or has an invalid default.
 */
export async function loadCatalog(rootDir: string = defaultSchemasRoot): Promise<SchemaCatalog> {
  const scan = await scanCatalog(rootDir);
  const fatal = scan.problems.filter((p) => p.rule !== 'field-doc-missing');
  if (fatal.length > 0) {
    const first = fatal[0] as FileProblem;
    throw new HubError('SCHEMA_INVALID', `invalid schemas:\n  ${fatal.map((p) => p.message).join('\n  ')}`, {
      where: { file: first.file, field: first.path || undefined },
      hint: 'run `tributary schemas check` for the full report',
    });
  }
  return catalogFromEntries(scan.entries);
}
