/**
 * A reader of OTLP trace export requests (opentelemetry/proto/collector/trace/v1, protobuf
 * encoding) written from the .proto field numbers, independent of the SDK that encodes them,
 * so a test checks what goes over the wire to a collector. Only the fields the tests read.
 */

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  /** SPAN_KIND_INTERNAL 1, SERVER 2, CLIENT 3, PRODUCER 4, CONSUMER 5. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
  /** STATUS_CODE_UNSET 0, OK 1, ERROR 2. */
  statusCode: number;
}

export interface OtlpResourceSpans {
  resource: Record<string, string | number | boolean>;
  scopes: { name: string; spans: OtlpSpan[] }[];
}

type Field = { no: number; wire: number; varint: bigint; bytes: Buffer };

/** The fields of one protobuf message, in order (repeated fields appear once per value). */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buf[at++];
      if (byte === undefined) throw new Error('truncated varint');
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (at < buf.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ no, wire, varint: varint(), bytes: Buffer.alloc(0) });
    else if (wire === 2) {
      const length = Number(varint());
      out.push({ no, wire, varint: 0n, bytes: buf.subarray(at, at + length) });
      at += length;
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      out.push({ no, wire, varint: 0n, bytes: buf.subarray(at, at + size) });
      at += size;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const text = (f: Field) => f.bytes.toString('utf8');

/** AnyValue: string 1, bool 2, int 3, double 4 (arrays and maps are not read). */
function anyValue(buf: Buffer): string | number | boolean {
  const [f] = fields(buf);
  if (!f) return '';
  if (f.no === 1) return text(f);
  if (f.no === 2) return f.varint !== 0n;
  if (f.no === 3) return Number(BigInt.asIntN(64, f.varint));
  if (f.no === 4) return f.bytes.readDoubleLE(0);
  return `<field ${f.no}>`;
}

/** repeated KeyValue { key 1; AnyValue value 2 } as an object. */
function keyValues(list: Field[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list) {
    const parts = fields(kv.bytes);
    const key = parts.find((p) => p.no === 1);
    const value = parts.find((p) => p.no === 2);
    if (key) out[text(key)] = value ? anyValue(value.bytes) : '';
  }
  return out;
}

function span(buf: Buffer): OtlpSpan {
  const f = fields(buf);
  const one = (no: number) => f.find((x) => x.no === no);
  const hex = (no: number) => one(no)?.bytes.toString('hex') ?? '';
  const status = one(15) ? fields(one(15)!.bytes).find((x) => x.no === 3) : undefined;
  return {
    traceId: hex(1),
    spanId: hex(2),
    traceState: one(3) ? text(one(3)!) : '',
    parentSpanId: hex(4),
    name: one(5) ? text(one(5)!) : '',
    kind: Number(one(6)?.varint ?? 0n),
    attributes: keyValues(f.filter((x) => x.no === 9)),
    links: f
      .filter((x) => x.no === 13)
      .map((l) => {
        const lf = fields(l.bytes);
        return {
          traceId: lf.find((x) => x.no === 1)?.bytes.toString('hex') ?? '',
          spanId: lf.find((x) => x.no === 2)?.bytes.toString('hex') ?? '',
        };
      }),
    statusCode: Number(status?.varint ?? 0n),
  };
}

/** Decodes an ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1 }. */
export function decodeExportTraceRequest(body: Buffer): OtlpResourceSpans[] {
  return fields(body)
    .filter((f) => f.no === 1)
    .map((rs) => {
      const parts = fields(rs.bytes);
      const resource = parts.find((p) => p.no === 1);
      return {
        resource: resource ? keyValues(fields(resource.bytes).filter((x) => x.no === 1)) : {},
        scopes: parts
          .filter((p) => p.no === 2)
          .map((ss) => {
            const sf = fields(ss.bytes);
            const scope = sf.find((x) => x.no === 1);
            const name = scope ? fields(scope.bytes).find((x) => x.no === 1) : undefined;
            return {
              name: name ? text(name) : '',
              spans: sf.filter((x) => x.no === 2).map((x) => span(x.bytes)),
            };
          }),
      };
    });
}
