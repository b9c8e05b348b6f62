import { silentLogger } from '../../core/logger.ts';
import { createReplyRouter } from '../../mcp-bridge/reply-router.ts';
import { serveStdio } from '../../mcp-bridge/stdio.ts';
import { toolsFromDeclarations } from '../../mcp-bridge/tools-from-declarations.ts';
import { createHubContext } from '../../platform/index.ts';
import { testPolicy } from './fixture-tools.ts';
import { roundTripDeclaration } from './roundtrip-declaration.ts';

// A stdio bridge whose tools round-trip through Kafka, for the stdio transport test. Topics and
// the schema log come from the parent test in the environment; nothing but MCP goes to stdout.
const names = JSON.parse(process.env.ROUNDTRIP_TOPICS ?? '{}');
const hub = await createHubContext({
  env: process.env,
  logger: silentLogger(),
  schemaLogTopic: process.env.SCHEMA_LOG_TOPIC ?? '',
});
const router = createReplyRouter({
  kafka: hub.kafka,
  serde: hub.serde,
  producer: hub.producer,
  resultTopics: [names.res, names.silentRes],
  cancelTopic: names.cancel,
  timeoutMs: 30_000,
});
await router.start();
await serveStdio(
  { name: 'ops', roles: ['admin'] },
  {
    tools: toolsFromDeclarations([roundTripDeclaration(names)], hub.catalog, router.runCommand),
    policy: testPolicy,
    logger: silentLogger(),
    emitAction: () => undefined,
  },
);
process.stdin.once('end', () => {
  void router
    .close()
    .then(() => hub.close())
    .finally(() => process.exit(0));
});
