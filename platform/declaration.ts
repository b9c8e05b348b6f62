import type { z } from 'zod';
import type { Logger } from '../core/logger.ts';
import type { HubContext } from './hub-context.ts';

/**
 * One declaration per component (connector, processor, audit consumer, bridge, ingress, hub).
 * The topology, the CLI help, the MCP tool list and the docs are derived from these; nothing
 * else in the tree repeats what a declaration says.
 */

export type CleanupPolicy = 'delete' | 'compact';

/** A topic the declaring component owns: it is the one place this topic's settings live. */
export interface TopicDeclaration {
  /** `<domain>.<entity>.<event>`, `.cmd` for commands, `.req`/`.res` for jobs, `_tributary.*` for state. */
  name: string;
  description: string;
  /** Avro full name of the value schema (see schemas/), e.g. `tributary.crm.ContactChanged`. */
  valueSchema: string;
  /** Keys are UTF-8 strings (the entity id) unless said otherwise. */
  keyType?: 'string' | 'none';
  partitions?: number;
  cleanupPolicy?: CleanupPolicy;
  /** Retention in ms; -1 keeps forever. */
  retentionMs?: number;
  /** When true the topology also creates `<name>.dlq` for records that can never succeed. */
  deadLetter?: boolean;
  /** When true the topology also creates `<name>.retry` for delayed retries. */
  retry?: boolean;
  /** Extra topic configs (Kafka config names). */
  configs?: Record<string, string>;
}

/** A command a component accepts; each becomes an MCP tool and an HTTP ingress type. */
export interface CommandDeclaration {
  /** Tool name, dotted, e.g. `crm.contact.upsert`, `image.analyze`. */
  name: string;
  title?: string;
  description: string;
  /** Topic the command event is published to (declared in `topics` of the same component). */
  topic: string;
  /** Topic the result event comes back on, matched by correlation id. */
  resultTopic: string;
  /** True when the command changes an external system (false for lookups and analyses). */
  mutating: boolean;
}

/** What the hub hands every component it creates. Tests pass real ones. */
export interface ComponentDeps {
  logger: Logger;
  /** The shared Kafka plumbing: client, schema catalog, registry, serde, producer (createHubContext). */
  hub: HubContext;
  clock?: () => number;
  signal?: AbortSignal;
}

/** A running component: built from config, then `start()`, then `close()` (safe to call twice). */
export interface Component {
  start(): Promise<void>;
  close(signal?: AbortSignal): Promise<void>;
  /** Optional live status for `tributary status` and the console. */
  status?(): Record<string, unknown>;
}

export type ComponentKind = 'connector' | 'processor' | 'audit' | 'bridge' | 'ingress' | 'hub';

export interface ComponentDeclaration<Config = unknown> {
  /** Unique, dotted: `connector.crm`, `processor.image`, `audit`, `mcp-bridge`. */
  name: string;
  kind: ComponentKind;
  description: string;
  /** zod schema of the component's config, with defaults and `.describe()` on every field. */
  config: z.ZodType<Config>;
  /** Topics this component owns (declares settings for). Each topic is owned exactly once. */
  topics: TopicDeclaration[];
  /** Names of topics it writes to (owned here or elsewhere). */
  produces: string[];
  /** Names of topics it reads from (owned here or elsewhere). */
  consumes: string[];
  commands?: CommandDeclaration[];
  create(config: Config, deps: ComponentDeps): Component;
}

/** Identity helper that keeps the Config type inferred from the zod schema. */
export function declareComponent<Config>(
  declaration: ComponentDeclaration<Config>,
): ComponentDeclaration<Config> {
  return declaration;
}
