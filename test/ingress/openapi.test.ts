import SwaggerParser from '@apidevtools/swagger-parser';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingressOpenApi, ingressTypesOf } from '../../ingress/index.ts';
import { type AvroSchemaObject, loadCatalog } from '../../schemas/index.ts';
import { hubDeclarations } from '../../topology/declarations.ts';
import { type IngressFixture, pushTargetDeclaration, startIngressFixture } from './fixture.ts';

type Doc = {
  openapi: string;
  paths: Record<
    string,
    { post?: { requestBody: { content: { 'application/json': { schema: JsonObject } } } } }
  >;
};
type JsonObject = {
  properties?: Record<string, unknown>;
  required?: string[];
  additionalProperties?: unknown;
};

/** The Avro `data` record's fields: names, and those that must be given (no default). */
function avroDataFields(schema: AvroSchemaObject): { names: string[]; required: string[] } {
  const data = (schema.fields as AvroSchemaObject[]).find((f) => f.name === 'data') as AvroSchemaObject;
  const fields = ((data.type as AvroSchemaObject).fields ?? []) as AvroSchemaObject[];
  return {
    names: fields.map((f) => String(f.name)),
    required: fields.filter((f) => !('default' in f)).map((f) => String(f.name)),
  };
}

describe('ingress OpenAPI document', () => {
  let fx: IngressFixture;
  beforeAll(async () => {
    fx = await startIngressFixture();
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('is served at /openapi.json, validates as OpenAPI 3.1, and has a path per allowed type matching its Avro fields', async () => {
    const res = await fetch(`${fx.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    expect(doc.openapi).toBe('3.1.0');
    await SwaggerParser.validate(structuredClone(doc) as never);
    const types = fx.ingress.types();
    expect(types.map((t) => t.name).sort()).toEqual(
      (pushTargetDeclaration.commands ?? []).map((c) => c.name).sort(),
    );
    const ajv = new AjvJsonSchemaValidator();
    for (const type of types) {
      const schema =
        doc.paths[`/v1/events/${type.name}`]?.post?.requestBody.content['application/json'].schema;
      expect(schema, type.name).toBeDefined();
      const avro = avroDataFields(fx.hub.catalog.latest(type.schema).schema);
      expect(Object.keys(schema?.properties ?? {}).sort()).toEqual(avro.names.sort());
      expect([...(schema?.required ?? [])].sort()).toEqual(avro.required.sort());
      // The request schema is usable JSON Schema: it refuses a field the record doesn't have.
      const validate = ajv.getValidator(schema as never);
      expect(validate({ notAField: 1 }).valid).toBe(false);
    }
    expect(doc.paths['/v1/topics/{topic}/events']).toBeDefined();
  });

  it('the validator refuses a broken document (so the check above means something)', async () => {
    const doc = (await (await fetch(`${fx.url}/openapi.json`)).json()) as Record<string, unknown>;
    delete doc.info;
    await expect(SwaggerParser.validate(doc as never)).rejects.toThrow(/info/);
  });

  it('covers every command of the hub’s real declarations', async () => {
    const catalog = await loadCatalog();
    const types = ingressTypesOf(hubDeclarations, catalog);
    const commands = hubDeclarations.flatMap((d) => (d.commands ?? []).map((c) => c.name));
    expect(types.map((t) => t.name).sort()).toEqual([...new Set(commands)].sort());
    expect(types.map((t) => t.name)).toContain('crm.contact.upsert');
    const doc = ingressOpenApi(types, catalog, 'https://hub.example');
    await SwaggerParser.validate(structuredClone(doc) as never);
    for (const type of types) expect(Object.keys(doc.paths)).toContain(`/v1/events/${type.name}`);
  });
});
