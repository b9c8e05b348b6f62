import type avro from 'avsc';
import {
  catalogFromEntries,
  defaultSchemasRoot,
  type FileProblem,
  SHARED_NAMESPACE,
  scanCatalog,
} from './catalog.ts';
import {
  COMPATIBILITY_MODES,
  type CompatibilityMode,
  type CompatibilityViolation,
  checkCompatibility,
} from './compatibility.ts';
import { COMPATIBILITY_ATTRIBUTE, declaredMode } from './registration-check.ts';
import type { CatalogEntry, SchemaCatalog } from './types.ts';

/**
 * Per-schema compatibility mode: the custom attribute `"tributary.compatibility"` on the top-level
 * record of a version file (one of COMPATIBILITY_MODES). A version is checked against earlier
 * versions under the mode IT declares (it is the promise that version makes), BACKWARD when absent.
 */
export { COMPATIBILITY_ATTRIBUTE };
export const DEFAULT_COMPATIBILITY: CompatibilityMode = 'BACKWARD';

/** Mode declared by one version, or the default. */
export function compatibilityModeOf(entry: CatalogEntry): CompatibilityMode {
  return declaredMode(entry.schema);
}

export interface CatalogCheck {
  catalog: SchemaCatalog;
  /** Files that failed to load, bad defaults, missing docs, broken conventions. */
  problems: FileProblem[];
  violations: CompatibilityViolation[];
  schemas: number;
  versions: number;
  /** Number of (new, old) version pairs compared. */
  comparisons: number;
}

function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** The repository's conventions for event files (see the project rules on Avro). */
function conventionProblems(entry: CatalogEntry): FileProblem[] {
  const out: FileProblem[] = [];
  const problem = (message: string, path = ''): void => {
    out.push({ file: entry.file, path, rule: 'convention', message: `${entry.file}: ${message}` });
  };
  const mode = entry.schema[COMPATIBILITY_ATTRIBUTE];
  if (mode !== undefined && !COMPATIBILITY_MODES.includes(mode as CompatibilityMode)) {
    problem(
      `${COMPATIBILITY_ATTRIBUTE} must be one of ${COMPATIBILITY_MODES.join(', ')}, not ${JSON.stringify(mode)}`,
    );
  }
  const segments = entry.file.split('/');
  const domain = segments.length > 1 ? segments[0] : '';
  const local = entry.name.split('.').at(-1) ?? '';
  const base = (segments.at(-1) ?? '').replace(/(\.v\d+)?\.avsc$/, '');
  if (entry.name !== `tributary.${domain}.${local}`)
    problem(`record ${entry.name} must be named tributary.${domain}.<Name> (its folder)`);
  if (kebab(local) !== base) problem(`file name ${base} should be ${kebab(local)} for record ${local}`);
  if (entry.name.startsWith(`${SHARED_NAMESPACE}.`)) return out;
  const record = entry.type as avro.types.RecordType;
  const names = (record.fields ?? []).map((f) => f.name);
  if (names.join(',') !== 'envelope,data')
    problem(`an event record has exactly the fields envelope, data (found ${names.join(', ')})`);
  const envelope = record.fields?.find((f) => f.name === 'envelope');
  if (envelope && envelope.type.name !== `${SHARED_NAMESPACE}.Envelope`)
    problem('field envelope must be tributary.common.Envelope', 'envelope');
  const data = record.fields?.find((f) => f.name === 'data');
  if (data && (data.type as avro.Type & { typeName: string }).typeName !== 'record')
    problem('field data must be a record', 'data');
  return out;
}

/**
 * Everything `tributary schemas check` verifies: each schema loads with valid defaults, documents
 * every field, follows the naming conventions, and each version keeps its declared compatibility
 * mode against the earlier versions (only the previous one for non-transitive modes).
 */
export async function checkCatalog(root: string = defaultSchemasRoot): Promise<CatalogCheck> {
  const scan = await scanCatalog(root);
  const catalog = catalogFromEntries(scan.entries);
  const problems = [...scan.problems];
  const violations: CompatibilityViolation[] = [];
  let comparisons = 0;
  for (const name of catalog.names()) {
    const versions = catalog.versions(name);
    for (const entry of versions) problems.push(...conventionProblems(entry));
    versions.forEach((entry, i) => {
      if (i === 0) return;
      const mode = compatibilityModeOf(entry);
      const earlier = versions.slice(0, i);
      if (mode !== 'NONE') comparisons += mode.endsWith('_TRANSITIVE') ? earlier.length : 1;
      violations.push(...checkCompatibility(entry, earlier, mode));
    });
  }
  return {
    catalog,
    problems,
    violations,
    schemas: catalog.names().length,
    versions: scan.entries.length,
    comparisons,
  };
}
