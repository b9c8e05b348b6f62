import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { HubError } from '../../core/errors.ts';
import {
  checkCatalog,
  compatibilityModeOf,
  defaultSchemasRoot,
  generateTypes,
  loadCatalog,
} from '../../schemas/index.ts';

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** `tributary schemas check | list | types`. */
export function registerSchemasCommands(program: Command): void {
  const schemas = program
    .command('schemas')
    .description(
      'Avro schemas: compatibility and defaults check, catalog listing, generated TypeScript types',
    );

  schemas
    .command('check')
    .description(
      'Check every schema: valid defaults, docs, conventions, and each version against earlier ones per its compatibility mode',
    )
    .option('--dir <root>', 'schemas root folder', defaultSchemasRoot)
    .action(async (opts: { dir: string }) => {
      const result = await checkCatalog(path.resolve(opts.dir));
      for (const p of result.problems) process.stderr.write(`${p.rule}: ${p.message}\n`);
      for (const v of result.violations) process.stderr.write(`incompatible: ${v.message}\n`);
      const failures = result.problems.length + result.violations.length;
      if (failures > 0) {
        const first = result.problems[0] ?? result.violations[0];
        throw new HubError('SCHEMAS_CHECK_FAILED', `schemas check: ${failures} problem(s) in ${opts.dir}`, {
          where: { field: first?.path || undefined },
          hint: 'give added/removed fields a default, keep types to Avro promotions, or add a new version with a new name',
        });
      }
      out(
        `schemas check: ok - ${result.schemas} schemas, ${result.versions} versions, ${result.comparisons} compatibility comparisons, defaults valid`,
      );
    });

  schemas
    .command('list')
    .description('List the catalog: schema, versions, compatibility mode, file of the latest version')
    .option('--dir <root>', 'schemas root folder', defaultSchemasRoot)
    .action(async (opts: { dir: string }) => {
      const catalog = await loadCatalog(path.resolve(opts.dir));
      const rows = catalog.names().map((name) => {
        const latest = catalog.latest(name);
        const versions = catalog
          .versions(name)
          .map((e) => `v${e.version}`)
          .join(',');
        return [name, versions, compatibilityModeOf(latest), latest.file];
      });
      const header = ['SCHEMA', 'VERSIONS', 'MODE', 'FILE'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
      for (const row of [header, ...rows])
        out(
          row
            .map((c, i) => c.padEnd(widths[i] ?? 0))
            .join('  ')
            .trimEnd(),
        );
    });

  schemas
    .command('types')
    .description('Write schemas/generated/types.ts from the catalog (--check: fail when it is stale instead)')
    .option('--dir <root>', 'schemas root folder', defaultSchemasRoot)
    .option('--out <file>', 'output file (default <root>/generated/types.ts)')
    .option('--check', 'do not write; exit 1 when the file differs from what the schemas generate')
    .action(async (opts: { dir: string; out?: string; check?: boolean }) => {
      const root = path.resolve(opts.dir);
      const file = path.resolve(opts.out ?? path.join(root, 'generated', 'types.ts'));
      const text = generateTypes(await loadCatalog(root));
      if (opts.check) {
        const current = await readFile(file, 'utf8').catch(() => '');
        if (current !== text) {
          throw new HubError('SCHEMAS_TYPES_STALE', `${path.relative(process.cwd(), file)} is stale`, {
            where: { file: path.relative(process.cwd(), file) },
            hint: 'run `tributary schemas types` and commit the result',
          });
        }
        out(`schemas types: ${path.relative(process.cwd(), file)} is up to date`);
        return;
      }
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, text);
      out(`schemas types: wrote ${path.relative(process.cwd(), file)}`);
    });
}
