/**
 * A connector in a process of its own, so a test can kill it with SIGKILL mid-sync.
 * Usage: node run-connector.ts <name> <config-file> <schema-log-topic>  (KAFKA_BROKERS from env)
 */
import { runConnectors } from '../../../connectors/index.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createHubContext } from '../../../platform/index.ts';

const [name, configFile, schemaLogTopic] = process.argv.slice(2);
const hub = await createHubContext({ logger: silentLogger(), ...(schemaLogTopic ? { schemaLogTopic } : {}) });
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
await runConnectors([name!], {
  configFile: configFile!,
  hub,
  logger: silentLogger(),
  signal: stop.signal,
  onStarted: () => process.stdout.write('started\n'),
});
await hub.close();
