import avro from 'avsc';

/**
 * Hostile bytes guard. avsc reads an array or map block count (a varint, up to 2^63) and then
 * loops that many times before it checks that the buffer held enough bytes; a flipped byte or a
 * spliced length in one record therefore blocks the event loop for seconds (found by the
 * reliability suite). These replacements read exactly as avsc does but stop as soon as the
 * read position passes the end of the buffer; avsc's own end-of-buffer check then rejects the
 * record as truncated. Applied once, when the schemas module loads.
 */
interface Tap {
  pos: number;
  buf: Buffer;
  readLong(): number;
  skipLong(): void;
  readString(): string;
}
interface Reader {
  _read(tap: Tap): unknown;
}

function blockSize(tap: Tap): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.skipLong(); // block size in bytes, not needed to read the items
  }
  return n;
}

const types = avro.types as unknown as {
  ArrayType: { prototype: { _read(this: { itemsType: Reader }, tap: Tap): unknown[] } };
  MapType: { prototype: { _read(this: { valuesType: Reader }, tap: Tap): Record<string, unknown> } };
};

types.ArrayType.prototype._read = function readArray(tap) {
  const items = this.itemsType;
  const values: unknown[] = [];
  for (let n = blockSize(tap); n !== 0 && tap.pos <= tap.buf.length; n = blockSize(tap)) {
    while (n-- > 0 && tap.pos <= tap.buf.length) values.push(items._read(tap));
  }
  return values;
};

types.MapType.prototype._read = function readMap(tap) {
  const valuesType = this.valuesType;
  const values: Record<string, unknown> = {};
  for (let n = blockSize(tap); n !== 0 && tap.pos <= tap.buf.length; n = blockSize(tap)) {
    while (n-- > 0 && tap.pos <= tap.buf.length) {
      const key = tap.readString();
      values[key] = valuesType._read(tap);
    }
  }
  return values;
};
