import type avro from 'avsc';

/** One reason a value doesn't fit a schema, located by field path (`data.lines.0.sku`). */
export interface ValueError {
  path: string;
  message: string;
}

function describeType(type: avro.Type): string {
  const t = type as avro.Type & { typeName: string; name?: string; symbols?: string[] };
  if (t.typeName === 'enum') return `enum ${t.name} (${(t.symbols ?? []).join(', ')})`;
  if (t.name) return `${t.typeName} ${t.name}`;
  return t.typeName;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (Buffer.isBuffer(value)) return `bytes(${value.length})`;
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/** Field names a value has that the schema doesn't declare (avsc only says "the record"). */
function undeclaredFields(type: avro.Type, value: unknown, path: string[], out: ValueError[]): void {
  const typeName = (type as avro.Type & { typeName: string }).typeName;
  if (value === null || typeof value !== 'object') return;
  if (typeName === 'record' || typeName === 'error') {
    const record = type as avro.types.RecordType;
    const known = new Set(record.fields.map((f) => f.name));
    for (const key of Object.keys(value)) {
      if (!known.has(key))
        out.push({ path: [...path, key].join('.'), message: 'is not a field of the schema' });
    }
    for (const f of record.fields)
      undeclaredFields(f.type, (value as Record<string, unknown>)[f.name], [...path, f.name], out);
  } else if (typeName === 'array' && Array.isArray(value)) {
    value.forEach((item, i) => {
      undeclaredFields((type as avro.types.ArrayType).itemsType, item, [...path, String(i)], out);
    });
  } else if (typeName === 'map') {
    for (const [k, v] of Object.entries(value)) {
      undeclaredFields((type as avro.types.MapType).valuesType as avro.Type, v, [...path, k], out);
    }
  } else if (typeName === 'union:unwrapped') {
    const branches = (type as unknown as { types: avro.Type[] }).types;
    const branch = branches.find((b) => b.isValid(value));
    if (branch) undeclaredFields(branch, value, path, out);
  } else if (typeName === 'union:wrapped') {
    const branches = (type as unknown as { types: avro.Type[] }).types;
    for (const [k, v] of Object.entries(value)) {
      const branch = branches.find((b) => b.branchName === k);
      if (branch) undeclaredFields(branch, v, path, out);
    }
  }
}

/** Every reason `value` is not a valid instance of `type`, each naming the field path. */
export function valueErrors(type: avro.Type, value: unknown): ValueError[] {
  const errors: ValueError[] = [];
  type.isValid(value, {
    errorHook: (path, bad, badType) => {
      errors.push({
        path: path.join('.'),
        message: `${describeValue(bad)} is not a valid ${describeType(badType)}`,
      });
    },
  });
  if (errors.length > 0) return errors;
  if (!type.isValid(value, { noUndeclaredFields: true })) undeclaredFields(type, value, [], errors);
  return errors;
}
