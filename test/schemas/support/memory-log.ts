import type { SchemaLog } from '../../../schemas/index.ts';

/**
 * In-memory SchemaLog for unit tests of the embedded registry (the Kafka-backed one lives in
 * platform/ and is tested against a real broker there). `compact()` keeps only the last record
 * per key, in log order, as Kafka's log cleaner does.
 */
export class MemorySchemaLog implements SchemaLog {
  records: Array<{ key: string; value: Buffer | null }> = [];
  reads = 0;

  async append(key: string, value: Buffer): Promise<void> {
    this.records.push({ key, value: Buffer.from(value) });
  }

  async readAll(): Promise<Array<{ key: string; value: Buffer | null }>> {
    this.reads += 1;
    return this.records.map((r) => ({ key: r.key, value: r.value ? Buffer.from(r.value) : null }));
  }

  /** A copy holding only the last record of each key (tombstones dropped), order preserved. */
  compacted(): MemorySchemaLog {
    const lastIndex = new Map<string, number>();
    for (const [i, r] of this.records.entries()) lastIndex.set(r.key, i);
    const copy = new MemorySchemaLog();
    copy.records = this.records.filter((r, i) => lastIndex.get(r.key) === i && r.value !== null);
    return copy;
  }
}
