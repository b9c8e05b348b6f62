"""Apache Avro's Python implementation (Debian python3-avro) on the other side of our serde.

  read:  stdin {"schemas": {id: schema}, "records": [hex]} -> stdout {"records": [{"id", "reencoded", "value"}]}
         Parses the Confluent header by hand, decodes with the writer schema fetched by id, then
         re-encodes the decoded datum (bytes must round-trip) and reports it as JSON.
  write: stdin {"id": n, "schema": schema} -> stdout {"records": [hex]} with fixed sample values.
"""
import datetime
import decimal
import io
import json
import struct
import sys
import uuid

import avro.io
import avro.schema

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, datetime.datetime):
        return (value - EPOCH) // datetime.timedelta(milliseconds=1)
    if isinstance(value, datetime.date):
        return (value - EPOCH.date()).days
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def read(request):
    parsed = {int(k): avro.schema.parse(json.dumps(v)) for k, v in request["schemas"].items()}
    out = []
    for text in request["records"]:
        data = bytes.fromhex(text)
        magic, schema_id = struct.unpack(">bI", data[:5])
        if magic != 0:
            raise ValueError("bad magic byte")
        schema = parsed[schema_id]
        datum = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(data[5:])))
        buf = io.BytesIO()
        avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(buf))
        out.append({"id": schema_id, "reencoded": buf.getvalue().hex(), "value": plain(datum)})
    return {"records": out}


def write(request):
    schema = avro.schema.parse(json.dumps(request["schema"]))
    samples = [
        {"amount": decimal.Decimal("-12.34"), "id": str(uuid.UUID(int=1)), "at": EPOCH + datetime.timedelta(milliseconds=1700000000123), "note": None},
        {"amount": decimal.Decimal("99999999.99"), "id": "6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5", "at": EPOCH, "note": "from python"},
    ]
    out = []
    for sample in samples:
        buf = io.BytesIO()
        buf.write(struct.pack(">bI", 0, request["id"]))
        avro.io.DatumWriter(schema).write(sample, avro.io.BinaryEncoder(buf))
        out.append(buf.getvalue().hex())
    return {"records": out}


if __name__ == "__main__":
    mode = sys.argv[1]
    request = json.load(sys.stdin)
    json.dump(read(request) if mode == "read" else write(request), sys.stdout)
