/**
 * Confluent wire format, as Confluent's Java and Python serializers write it:
 * byte 0 = magic 0, bytes 1-4 = schema id (big-endian int32), then the Avro binary body.
 */
export const MAGIC_BYTE = 0;
export const HEADER_SIZE = 5;

/** Writes the 5-byte header for `schemaId` into the first bytes of `framed`. */
export function writeHeader(framed: Buffer, schemaId: number): Buffer {
  framed.writeUInt8(MAGIC_BYTE, 0);
  framed.writeInt32BE(schemaId, 1);
  return framed;
}

/** Prefixes an Avro body with the 5-byte header for `schemaId`. */
export function frame(schemaId: number, body: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(HEADER_SIZE + body.length);
  body.copy(framed, HEADER_SIZE);
  return writeHeader(framed, schemaId);
}

/** Splits a framed message; `problem` tells why it can't be one (the serde turns it into an error). */
export function unframe(
  buffer: Buffer,
): { schemaId: number; body: Buffer } | { problem: 'bad-magic' | 'truncated'; detail: string } {
  if (buffer.length > 0 && buffer[0] !== MAGIC_BYTE) {
    return {
      problem: 'bad-magic',
      detail: `first byte is 0x${buffer[0]?.toString(16).padStart(2, '0')}, not the magic byte 0x00`,
    };
  }
  if (buffer.length < HEADER_SIZE) {
    return { problem: 'truncated', detail: `${buffer.length} bytes, shorter than the 5-byte header` };
  }
  return { schemaId: buffer.readInt32BE(1), body: buffer.subarray(HEADER_SIZE) };
}
