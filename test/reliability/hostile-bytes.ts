/**
 * Generators of hostile inputs for the reliability suite. Seeded, so a failing input can be
 * reproduced from the seed printed by the test (RELIABILITY_SEED overrides it).
 */

/** A small seeded PRNG (mulberry32): same seed, same inputs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The run's seed: RELIABILITY_SEED or a fresh one. */
export function runSeed(): number {
  return Number(process.env.RELIABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
}

export interface Mutator {
  int(maxExclusive: number): number;
  pick<T>(items: readonly T[]): T;
  bytes(length: number): Buffer;
  /** A copy with the last `1..len` bytes cut off (at least one byte goes). */
  truncate(valid: Buffer): Buffer;
  /**
   * A copy with 1-4 bytes XORed with a non-zero value, from `from` on. With `keepHighBit` the
   * XOR leaves bit 7 alone, so every Avro varint keeps its length (no count grows past 2^6).
   */
  flip(valid: Buffer, from?: number, keepHighBit?: boolean): Buffer;
  /** A copy with a varint announcing a huge length or count spliced in at a random place from `from` on. */
  hugeLength(valid: Buffer, from?: number): Buffer;
}

/** Mutation helpers over a seeded PRNG. */
export function mutator(random: () => number): Mutator {
  const int = (max: number) => Math.floor(random() * max);
  const bytes = (length: number) => {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = int(256);
    return out;
  };
  return {
    int,
    pick: (items) => items[int(items.length)]!,
    bytes,
    truncate: (valid) => valid.subarray(0, int(valid.length)),
    flip(valid, from = 0, keepHighBit = false) {
      const out = Buffer.from(valid);
      const flips = 1 + int(4);
      for (let i = 0; i < flips && out.length > from; i++) {
        const at = from + int(out.length - from);
        out[at] = out[at]! ^ (1 + int(keepHighBit ? 127 : 255));
      }
      return out;
    },
    hugeLength(valid, from = 0) {
      // Zig-zag varints of 2^31..2^62: a string, bytes, array or map length no buffer can hold.
      const value = 2n ** BigInt(31 + int(32)) * (int(2) === 0 ? 1n : -1n);
      let zz = value >= 0n ? value * 2n : -value * 2n - 1n;
      const varint: number[] = [];
      while (zz >= 0x80n) {
        varint.push(Number((zz & 0x7fn) | 0x80n));
        zz >>= 7n;
      }
      varint.push(Number(zz));
      const at = from + int(Math.max(1, valid.length - from));
      return Buffer.concat([valid.subarray(0, at), Buffer.from(varint), valid.subarray(at)]);
    },
  };
}

/** A Confluent wire-format header: magic 0 and a big-endian schema id. */
export function wireHeader(schemaId: number, magic = 0): Buffer {
  const header = Buffer.alloc(5);
  header[0] = magic;
  header.writeUInt32BE(schemaId >>> 0, 1);
  return header;
}
