import { CONNECTOR_CONTROL_TOPIC, createConnectorControl } from '../../connectors/runtime/control.ts';
import type { Logger } from '../../core/logger.ts';
import type { HubContext } from '../../platform/index.ts';
import type { PreparedSections } from '../run-support.ts';
import type { HostedComponent } from '../supervisor.ts';
import { type ConsoleOperations, createConsoleOperations } from './operations.ts';

/**
 * Once the hub's components run: the console's operations, and the hub following the connector
 * control topic as `tributary connectors run` does, so pause and resume (from the console, from
 * `tributary connectors pause|resume`, from another instance) reach the connectors it hosts.
 * The last command per connector is applied, also the one found on start.
 */
export async function attachConsole(options: {
  hub: HubContext;
  hosted: () => readonly HostedComponent[];
  prepared: PreparedSections;
  env: NodeJS.ProcessEnv;
  prefix: string;
  /** The hub's own dead-letter topics, for the console's panel. */
  deadLetterTopics: readonly string[];
  logger: Logger;
  cleanups: Array<{ what: string; run: () => Promise<unknown> }>;
}): Promise<ConsoleOperations> {
  const { hub, prefix, logger } = options;
  const connectors = options.hosted().filter((c) => c.name.startsWith('connector.'));
  if (connectors.length > 0) {
    const control = createConnectorControl({
      kafka: hub.kafka,
      producer: hub.producer,
      topic: `${prefix}${CONNECTOR_CONTROL_TOPIC}`,
      logger,
    });
    options.cleanups.push({ what: 'connector control', run: () => control.close() });
    await control.follow((record) => {
      const target = connectors.find((c) => c.name === record.connector);
      if (!target) return;
      const applied = target.command?.(record.command) ?? false;
      logger.info(
        { connector: record.connector, command: record.command, actor: record.actor, applied },
        'operator command',
      );
    });
  }
  const auditSection = options.prepared.sections.audit as { keyFile?: unknown } | undefined;
  return createConsoleOperations({
    hub,
    components: options.hosted,
    prefix,
    deadLetterTopics: options.deadLetterTopics,
    ...(options.prepared.auditDir
      ? {
          audit: {
            dir: options.prepared.auditDir,
            env: options.env,
            ...(typeof auditSection?.keyFile === 'string' ? { keyFile: auditSection.keyFile } : {}),
          },
        }
      : {}),
  });
}
