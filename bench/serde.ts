import { loadCatalog, type Serde } from '../schemas/index.ts';
import { salesOrderChanged, sampleEvents } from './support/events.ts';
import { memorySerde } from './support/memory-serde.ts';
import { type BenchResult, type Comparison, type Figure, isEntryPoint, runAsMain } from './support/report.ts';
import { opsPerSecond, smokeRun } from './support/stats.ts';

/**
 * Serde: Avro encode and decode through the hub's serde (validate, encode, Confluent frame;
 * unframe, resolve to the catalog's latest, decode) for real catalog schemas, against
 * JSON.stringify / JSON.parse of the same objects in the same process.
 */

/** The ingest benchmark's event: a sales order of 24 items, about 1 KB framed. */
const INGEST_SCHEMA = 'tributary.erp.SalesOrderChanged';
const INGEST_LINES = 24;

/** ops/s of an async operation awaited one at a time, as a producer awaits encode per event. */
async function asyncOpsPerSecond(op: () => Promise<unknown>, ms: number): Promise<number> {
  const warmUntil = performance.now() + ms / 10;
  while (performance.now() < warmUntil) for (let i = 0; i < 100; i += 1) await op();
  let count = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 100; i += 1) await op();
    count += 100;
    now = performance.now();
  }
  return (count * 1000) / (now - start);
}

async function measureOne(
  serde: Serde,
  type: { toBuffer(v: unknown): Buffer; fromBuffer(b: Buffer): unknown },
  topic: string,
  schema: string,
  event: unknown,
  ms: number,
) {
  const bytes = await serde.encode(topic, schema, event as never);
  const json = JSON.stringify(event);
  const where = { topic, partition: 0, offset: '0' };
  // Same object must come back: otherwise we would be timing a broken round trip.
  const back = (await serde.decode(bytes, where)).value;
  if (JSON.stringify(back) !== json) throw new Error(`${schema}: Avro round trip changed the event`);
  let sink = 0;
  const avroEncode = await asyncOpsPerSecond(async () => {
    sink += (await serde.encode(topic, schema, event as never)).length;
  }, ms);
  const avroDecode = await asyncOpsPerSecond(async () => {
    sink += (await serde.decode(bytes, where)).schemaId & 1;
  }, ms);
  const jsonEncode = opsPerSecond(() => {
    sink += JSON.stringify(event).length;
  }, ms);
  const jsonDecode = opsPerSecond(() => {
    sink += (JSON.parse(json) as object) ? 1 : 0;
  }, ms);
  // avsc alone (no validation, no frame, no registry): shows what the serde adds on top.
  const body = type.toBuffer(event);
  const rawEncode = opsPerSecond(() => {
    sink += type.toBuffer(event).length;
  }, ms);
  const rawDecode = opsPerSecond(() => {
    sink += type.fromBuffer(body) ? 1 : 0;
  }, ms);
  if (sink === 0) throw new Error('nothing measured');
  return {
    avroBytes: bytes.length,
    jsonBytes: Buffer.byteLength(json),
    avroEncode,
    avroDecode,
    jsonEncode,
    jsonDecode,
    rawEncode,
    rawDecode,
  };
}

/** Runs the serde benchmark over the sample events of sampleEvents(). */
export async function benchSerde(): Promise<BenchResult> {
  const started = performance.now();
  const ms = smokeRun() ? 20 : 1000;
  const catalog = await loadCatalog();
  const serde = await memorySerde(catalog);
  const figures: Figure[] = [];
  const comparisons: Comparison[] = [];
  const totals = { avroEncode: 0, avroDecode: 0, jsonEncode: 0, jsonDecode: 0, rawEncode: 0, rawDecode: 0 };
  const samples = sampleEvents();
  for (const { schema, topic, event } of samples) {
    const r = await measureOne(serde, catalog.latest(schema).type, topic, schema, event, ms);
    const short = schema.replace(/^tributary\./, '');
    figures.push(
      { label: `${short} size Avro / JSON`, value: r.avroBytes, unit: `B / ${r.jsonBytes} B` },
      { label: `${short} Avro encode`, value: r.avroEncode, unit: 'ops/s' },
      { label: `${short} Avro decode`, value: r.avroDecode, unit: 'ops/s' },
      { label: `${short} JSON.stringify`, value: r.jsonEncode, unit: 'ops/s' },
      { label: `${short} JSON.parse`, value: r.jsonDecode, unit: 'ops/s' },
    );
    comparisons.push(
      { label: `${short} encode Avro / JSON.stringify`, ratio: r.avroEncode / r.jsonEncode },
      { label: `${short} decode Avro / JSON.parse`, ratio: r.avroDecode / r.jsonDecode },
    );
    for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += 1 / r[key];
  }
  // The ingest benchmark's 1 KB sales order (24 items, 49 decimals), apart from the mix.
  const ingest = await measureOne(
    serde,
    catalog.latest(INGEST_SCHEMA).type,
    'erp.sales-order.changed',
    INGEST_SCHEMA,
    salesOrderChanged(1, INGEST_LINES),
    ms,
  );
  figures.push(
    { label: 'ingest event size Avro / JSON', value: ingest.avroBytes, unit: `B / ${ingest.jsonBytes} B` },
    { label: 'ingest event Avro encode', value: ingest.avroEncode, unit: 'ops/s' },
    { label: 'ingest event Avro decode', value: ingest.avroDecode, unit: 'ops/s' },
    { label: 'ingest event avsc toBuffer alone', value: ingest.rawEncode, unit: 'ops/s' },
  );
  // Harmonic mean: the rate of a stream made of one of each sample event.
  const mean = (key: keyof typeof totals) => samples.length / totals[key];
  figures.push(
    { label: 'mix Avro encode', value: mean('avroEncode'), unit: 'ops/s' },
    { label: 'mix Avro decode', value: mean('avroDecode'), unit: 'ops/s' },
    { label: 'mix JSON.stringify', value: mean('jsonEncode'), unit: 'ops/s' },
    { label: 'mix JSON.parse', value: mean('jsonDecode'), unit: 'ops/s' },
    {
      label: 'mix avsc toBuffer alone (no validation, frame, registry)',
      value: mean('rawEncode'),
      unit: 'ops/s',
    },
    { label: 'mix avsc fromBuffer alone (no frame, resolver)', value: mean('rawDecode'), unit: 'ops/s' },
  );
  comparisons.push(
    {
      label: 'mix encode Avro / JSON.stringify',
      ratio: mean('avroEncode') / mean('jsonEncode'),
      headline: true,
    },
    { label: 'mix decode Avro / JSON.parse', ratio: mean('avroDecode') / mean('jsonDecode'), headline: true },
    { label: 'mix encode hub serde / avsc alone', ratio: mean('avroEncode') / mean('rawEncode') },
    { label: 'mix decode hub serde / avsc alone', ratio: mean('avroDecode') / mean('rawDecode') },
  );
  return {
    name: 'serde',
    title: 'Serde: Avro (hub serde) against JSON',
    setup: {
      schemas: samples.map((s) => s.schema.replace(/^tributary\./, '')).join(', '),
      'ingest event': `erp.SalesOrderChanged with ${INGEST_LINES} items (bench/ingest.ts), measured apart from the mix`,
      'Avro path':
        'serde.encode (encode validating as it writes + Confluent frame), serde.decode (unframe + resolve + decode), awaited one by one',
      'JSON path': 'JSON.stringify / JSON.parse of the same object (no validation, no schema)',
      'time per measurement': `${ms} ms after a ${ms / 10} ms warm-up, single thread`,
      registry: 'embedded registry over an in-memory log (ids cached after the first call)',
    },
    figures,
    comparisons,
    notes: [],
    seconds: (performance.now() - started) / 1000,
  };
}

if (isEntryPoint(import.meta)) await runAsMain(benchSerde);
