import {
  createEmbeddedRegistry,
  createSerde,
  loadCatalog,
  type SchemaCatalog,
  type SchemaLog,
  type Serde,
} from '../../schemas/index.ts';

/** A schema log in memory: the serde needs a registry, not Kafka, to be measured. */
function memoryLog(): SchemaLog {
  const records: Array<{ key: string; value: Buffer | null }> = [];
  return {
    append: async (key, value) => void records.push({ key, value }),
    readAll: async () => [...records],
  };
}

/** The hub's serde over the catalog (the real one when not given) and an embedded registry kept in memory. */
export async function memorySerde(catalog?: SchemaCatalog): Promise<Serde> {
  return createSerde({
    registry: createEmbeddedRegistry({ log: memoryLog() }),
    catalog: catalog ?? (await loadCatalog()),
  });
}
