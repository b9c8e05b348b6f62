/** Public surface of the HTTP ingress; other layers (topology, CLI) import from here only. */
export { createIngress, type Ingress, type IngressDeps } from './component.ts';
export { type IngressConfig, ingressConfigSchema } from './config.ts';
export { ingressDeclaration } from './declaration.ts';
export { createIdempotencyRecords, type IdempotencyRecords, type StoredReply } from './idempotency.ts';
export { findIngressType, type IngressType, ingressTypesOf, subjectOf } from './ingress-types.ts';
export { eventPath, ingressOpenApi } from './openapi.ts';
export { type PublishRequest, type PublishResult, publishIngressEvent } from './publish.ts';
export { type Page, type PageEvent, type ReadPageRequest, readEventsPage } from './read-events.ts';
export { createIngressHttpServer, type IngressHttpDeps, type IngressHttpServer } from './server.ts';
