import avro from 'avsc';
import { avscOptions } from './logical-types.ts';
import type { AvroSchemaJson } from './types.ts';
import { HEADER_SIZE } from './wire.ts';

/**
 * The serde's encode hot path: validate and write in one pass, into a reused buffer, with room
 * for the Confluent header (no Buffer.concat).
 *
 * avsc's writes already throw for every value its `isValid` rejects (a wrong primitive, an enum
 * symbol it doesn't have, no union branch, a decimal or uuid that doesn't convert), with two
 * exceptions, both in records: a record value that is not an object (the compiled writer reads
 * the fields off anything and writes their defaults) and a field the schema doesn't declare
 * (`isValid`'s `noUndeclaredFields`). The strict type below is the serde's own copy of the
 * catalog type whose record writes check both first, so it writes exactly the values
 * `isValid(value, { noUndeclaredFields: true })` accepts, with the same bytes as the catalog type
 * (same schema, same options). When it throws, the serde runs the slow validation for the error.
 * Its strings also take a shorter write (StringWriteType below), byte for byte avsc's.
 */

type Write = (tap: unknown, value: unknown) => void;

/** avsc's record type whose compiled write first checks the value's shape (avsc types are frozen). */
class StrictRecordType extends avro.types.RecordType {
  /** Called by avsc's RecordType constructor; the instance is complete but for its reader/writer. */
  _createWriter(): Write {
    const base = avro.types.RecordType.prototype as unknown as { _createWriter(): Write };
    const write = base._createWriter.call(this);
    const declared = new Set(this.fields.map((f) => f.name));
    const name = this.name;
    return (tap, value) => {
      if (value === null || typeof value !== 'object' || !onlyDeclared(value, declared))
        throw new Error(`not a valid ${name}: not an object, or has a field the schema does not declare`);
      write(tap, value);
    };
  }
}

/**
 * True when every enumerable key of `value` is a declared field: avsc's `_checkFields` without
 * its array of keys per record. Inherited enumerable keys count here and not there; such a value
 * takes the serde's slow path, which decides with avsc's own check.
 */
function onlyDeclared(value: object, declared: Set<string>): boolean {
  for (const key in value) if (!declared.has(key)) return false;
  return true;
}

/** The part of avsc's (untyped) write cursor the string write uses. */
interface Tap {
  buf: Buffer;
  pos: number;
}

const stringWrite = (avro.types.StringType.prototype as unknown as { _write: Write })._write;

/**
 * avsc's string type, with short ASCII strings (most ids, codes and names) written in one pass:
 * avsc first asks Buffer.byteLength, a native call per string. Same bytes: a one-byte zigzag
 * length (below 64) and the characters; anything else goes to avsc's own write.
 */
class StringWriteType extends avro.types.StringType {
  _write(tap: Tap, value: unknown): void {
    if (typeof value === 'string') {
      const len = value.length;
      const { buf, pos } = tap;
      if (len < 64 && pos + 1 + len <= buf.length) {
        let i = 0;
        for (; i < len; i += 1) {
          const c = value.charCodeAt(i);
          if (c >= 0x80) break;
          buf[pos + 1 + i] = c;
        }
        if (i === len) {
          buf[pos] = len << 1;
          tap.pos = pos + 1 + len;
          return;
        }
      }
    }
    stringWrite.call(this, tap, value);
  }
}

/** A copy of the type of `schema` (built with the hub's avsc options) that writes only valid values. */
export function strictType(schema: AvroSchemaJson): avro.Type {
  const options = avscOptions();
  const logicalTypes = (options as { logicalTypes?: Record<string, unknown> }).logicalTypes ?? {};
  return avro.Type.forSchema(schema as avro.Schema, {
    ...options,
    typeHook: (s, opts) => {
      if (s === 'string') return new StringWriteType();
      const def = s as { type?: unknown; logicalType?: unknown };
      if (def.type === 'string' && def.logicalType === undefined) return new StringWriteType();
      if (def.type !== 'record' && def.type !== 'error') return undefined;
      if (typeof def.logicalType === 'string' && def.logicalType in logicalTypes) return undefined;
      return new StrictRecordType(s, opts);
    },
  });
}

/** Kept between encodes up to this size; a larger value gets a buffer of its own. */
const MAX_SCRATCH = 1024 * 1024;

/**
 * Writes values after HEADER_SIZE free bytes into one growing scratch buffer and returns an exact
 * copy (the caller fills in the header). Synchronous, so one writer serves concurrent encodes.
 */
export function createFrameWriter(): (type: avro.Type, value: unknown) => Buffer {
  let scratch = Buffer.allocUnsafeSlow(16 * 1024);
  return (type, value) => {
    const end = type.encode(value, scratch, HEADER_SIZE);
    if (end >= 0) {
      const out = Buffer.allocUnsafe(end);
      scratch.copy(out, 0, 0, end);
      return out;
    }
    // Did not fit: `end` is minus the missing bytes. Write again into a buffer of the exact size.
    const size = scratch.length - end;
    const out = Buffer.allocUnsafe(size);
    type.encode(value, out, HEADER_SIZE);
    if (size <= MAX_SCRATCH)
      scratch = Buffer.allocUnsafeSlow(Math.min(MAX_SCRATCH, Math.max(size, scratch.length * 2)));
    return out;
  };
}
