import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { type AvroSchemaObject, catalogFromEntries, generateTypes } from '../../schemas/index.ts';
import { avscOptions } from '../../schemas/src/logical-types.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

const tree: AvroSchemaObject = {
  type: 'record',
  name: 'TreeGrown',
  namespace: 'tributary.test',
  doc: 'A tree grew.',
  fields: [
    {
      name: 'node',
      doc: 'Root node.',
      type: {
        type: 'record',
        name: 'Node',
        fields: [
          { name: 'label', type: 'string', doc: 'Label.' },
          {
            name: 'children',
            type: { type: 'array', items: 'Node' },
            default: [],
            doc: 'Sub-trees (recursive).',
          },
        ],
      },
    },
    { name: 'price', type: { type: 'bytes', logicalType: 'decimal', precision: 9, scale: 2 }, doc: 'Price.' },
    { name: 'hash', type: { type: 'fixed', name: 'Sha256', size: 32 }, doc: 'Digest.' },
    { name: 'either', type: ['null', 'int', 'long'], default: null, doc: 'Ambiguous for JS: wrapped.' },
    { name: 'tags', type: { type: 'map', values: 'string' }, doc: 'Tags.' },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['OAK', 'ASH'] }, doc: 'Kind.' },
  ],
};

describe('generated TypeScript types', () => {
  it('maps records, recursion, logical types, fixed, wrapped unions, maps and enums, and type-checks', async () => {
    const type = avro.Type.forSchema(tree as avro.Schema, avscOptions());
    const catalog = catalogFromEntries([
      { name: 'tributary.test.TreeGrown', version: 1, file: 'x.v1.avsc', schema: tree, type },
    ]);
    const text = generateTypes(catalog);
    expect(text).toContain('export interface TestTreeGrown {');
    expect(text).toContain('children?: Array<TestNode>;');
    expect(text).toContain('price: string;');
    expect(text).toContain('export type TestSha256 = Buffer;');
    expect(text).toContain('either?: null | { "int": number } | { "long": number };');
    expect(text).toContain('tags: Record<string, string>;');
    expect(text).toContain("export type TestKind = 'OAK' | 'ASH';");
    expect(text).toContain('"tributary.test.TreeGrown": TestTreeGrown;');
    expect(text).toContain('/** Sub-trees (recursive). */');

    // The generated file compiles under the repository's strict settings, and values avsc
    // accepts fit the generated shape (wrapped union included).
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tributary-typegen-'));
    temps.push(dir);
    await writeFile(path.join(dir, 'types.ts'), text);
    const sample = {
      node: { label: 'a', children: [{ label: 'b', children: [] }] },
      price: '1.50',
      hash: Buffer.alloc(32),
      either: { long: 5 },
      tags: { x: 'y' },
      kind: 'ASH',
    };
    expect(type.isValid(sample)).toBe(true);
    await writeFile(
      path.join(dir, 'use.ts'),
      `import type { TestTreeGrown } from './types.ts';\nexport const sample: TestTreeGrown = ${JSON.stringify(sample).replace(/\{"type":"Buffer","data":\[[0-9,]*\]\}/, 'Buffer.alloc(32)')};\n`,
    );
    const tsc = path.join(repo, 'node_modules', '.bin', 'tsc');
    const args = [
      '--ignoreConfig',
      '--noEmit',
      '--strict',
      '--allowImportingTsExtensions',
      '--module',
      'nodenext',
      '--types',
      'node',
      '--typeRoots',
      path.join(repo, 'node_modules', '@types'),
      path.join(dir, 'use.ts'),
    ];
    const result = await promisify(execFile)(tsc, args, { cwd: repo }).then(
      () => '',
      (err: { stdout?: string; message: string }) => err.stdout || err.message,
    );
    expect(result).toBe('');
  });
});
