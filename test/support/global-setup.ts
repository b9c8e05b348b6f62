import type { TestProject } from 'vitest/node';
import { HubError } from '../../core/errors.ts';
import { startSharedKafka } from './kafka.ts';

/**
 * Vitest global setup: finds or starts the run's one Kafka (see test/support/kafka.ts) before
 * any test file runs, hands its brokers to the workers, and stops it when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const kafka = await startSharedKafka().catch((err: unknown) => {
    // Vitest prints only the message; put the hint (what to do) in it.
    throw err instanceof HubError
      ? new Error(`no Kafka for the tests: ${err.describe()}`, { cause: err })
      : err;
  });
  const brokers = kafka.brokers.join(',');
  project.provide('kafkaBrokers', brokers);
  project.provide('kafkaSource', kafka.source);
  // Code under test that reads KAFKA_BROKERS itself finds the same cluster.
  process.env.KAFKA_BROKERS = brokers;
  const how = { env: 'KAFKA_BROKERS', container: 'a container', kit: 'the local kit' }[kafka.source];
  process.stderr.write(
    `tributary tests: Kafka at ${brokers} from ${how} (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
  );
  return async () => {
    await kafka.stop();
  };
}
