import { avroFieldToJsonSchema, type JsonSchema, type SchemaCatalog } from '../schemas/index.ts';
import type { IngressType } from './ingress-types.ts';

/**
 * The ingress's OpenAPI 3.1 document, generated from the declarations and the Avro catalog:
 * one `POST /v1/events/<type>` per ingress type whose request body is the JSON Schema of the
 * event's `data` record (the same conversion the MCP bridge uses for tool inputs), plus the
 * paging endpoint. OpenAPI 3.1 schemas are JSON Schema 2020-12, so the conversion goes in as is.
 */

/** Path of a type's publish operation. */
export const eventPath = (type: IngressType) => `/v1/events/${type.name}`;

const errorSchema: JsonSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'Stable error code, e.g. INGRESS_INVALID_BODY.' },
        message: { type: 'string' },
        field: { type: 'string', description: 'Offending field path inside the body, when one is at fault.' },
        hint: { type: 'string', description: 'What to do about it.' },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

const publishReplySchema: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid', description: 'Event id (envelope.id).' },
    topic: { type: 'string' },
    partition: { type: 'integer' },
    offset: { type: 'string', description: 'Offset of the record (decimal string: offsets exceed 2^53).' },
  },
  required: ['id', 'topic', 'partition', 'offset'],
};

const pageSchema: JsonSchema = {
  type: 'object',
  properties: {
    topic: { type: 'string' },
    events: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          partition: { type: 'integer' },
          offset: { type: 'string' },
          timestamp: { type: 'integer', description: 'Broker timestamp, ms since the epoch.' },
          key: { type: ['string', 'null'] },
          type: { type: 'string', description: 'Avro full name of the event.' },
          event: { type: 'object', description: 'The decoded event: envelope and data.' },
          error: {
            type: 'object',
            description: 'Why the record could not be decoded.',
            properties: { code: { type: 'string' }, message: { type: 'string' } },
          },
        },
        required: ['partition', 'offset', 'timestamp', 'key'],
      },
    },
    next: { type: 'string', description: 'Cursor of the next page (pass as `cursor`).' },
    hasMore: { type: 'boolean' },
  },
  required: ['topic', 'events', 'next', 'hasMore'],
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const commonErrors = {
  '401': {
    ...errorResponse('No valid bearer token; `WWW-Authenticate` names the resource metadata.'),
    headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
  },
  '403': errorResponse('The caller’s roles do not allow this.'),
  '429': {
    ...errorResponse('Rate limit reached.'),
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
  },
};

function publishOperation(type: IngressType, catalog: SchemaCatalog) {
  const schema = avroFieldToJsonSchema(catalog.latest(type.schema).schema, 'data');
  return {
    operationId: `publish_${type.name.replace(/[^A-Za-z0-9]+/g, '_')}`,
    summary: type.title ?? `Publish ${type.name}`,
    description: `${type.description}\n\nPublishes a \`${type.schema}\` event to \`${type.topic}\` (accepted by ${type.component}). Requires the permission \`ingress:${type.name}\`.`,
    tags: [type.component],
    parameters: [
      { $ref: '#/components/parameters/IdempotencyKey' },
      { $ref: '#/components/parameters/CorrelationId' },
    ],
    requestBody: {
      required: true,
      description: `The event's data (\`${type.schema}\`); the ingress adds the envelope.`,
      content: { 'application/json': { schema } },
    },
    responses: {
      '201': {
        description: 'Published (or, for a repeated Idempotency-Key with the same body, published before).',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/PublishReply' } } },
      },
      '400': errorResponse('The body is not JSON or does not fit the schema; `field` names the path.'),
      ...commonErrors,
      '409': errorResponse('A request with the same Idempotency-Key is still in progress; retry.'),
      '413': errorResponse('The body is larger than the configured limit.'),
      '422': errorResponse('The Idempotency-Key was used with a different body.'),
    },
  };
}

const readOperation = {
  operationId: 'read_topic_events',
  summary: 'Page through the decoded events of a topic',
  description:
    'Events merged across partitions by broker timestamp, at most `limit` per page. Requires the permission `read:<topic>`.',
  parameters: [
    { name: 'topic', in: 'path', required: true, schema: { type: 'string' } },
    {
      name: 'from',
      in: 'query',
      description: 'Start: an offset (digits, applied to every partition read) or an ISO 8601 time.',
      schema: { type: 'string' },
    },
    {
      name: 'cursor',
      in: 'query',
      description: 'The `next` of a previous page.',
      schema: { type: 'string' },
    },
    { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, default: 100 } },
    { name: 'partition', in: 'query', schema: { type: 'integer', minimum: 0 } },
  ],
  responses: {
    '200': {
      description: 'One page.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Page' } } },
    },
    '400': errorResponse('A bad parameter.'),
    ...commonErrors,
    '404': errorResponse('No such topic.'),
  },
};

/** Builds the document for the types and the public origin the server answers on. */
export function ingressOpenApi(types: readonly IngressType[], catalog: SchemaCatalog, origin: string) {
  const paths: Record<string, unknown> = {};
  for (const type of types) paths[eventPath(type)] = { post: publishOperation(type, catalog) };
  paths['/v1/topics/{topic}/events'] = { get: readOperation };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tributary HTTP ingress',
      version: '1.0.0',
      description:
        'Systems that push: publish command events validated against their Avro schemas, and page through topics. Log in at POST /auth/login for a bearer token.',
    },
    servers: [{ url: origin }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'Repeat a request safely: the same key with the same body answers the first result and publishes nothing more.',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
        },
        CorrelationId: {
          name: 'Correlation-Id',
          in: 'header',
          required: false,
          description: 'Goes into envelope.correlationId (default: the event id).',
          schema: { type: 'string', maxLength: 128 },
        },
      },
      schemas: { Error: errorSchema, PublishReply: publishReplySchema, Page: pageSchema },
    },
  };
}
