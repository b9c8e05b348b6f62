import { HubError } from '../core/errors.ts';
import type { CleanupPolicy, ComponentDeclaration, ComponentKind } from '../platform/declaration.ts';
import { checkTopicName, namespaceOf, type TopicRole } from './names.ts';

/**
 * Derives the hub's topics from component declarations: the one place topic settings are
 * computed. Nothing here talks to a broker; apply.ts compares the result with a cluster.
 */

export interface TopicSpec {
  /** Full topic name on the broker (with the test prefix, if any). */
  name: string;
  description: string;
  role: TopicRole;
  /** Declaration that owns the topic's settings. */
  owner: string;
  /** For `.dlq` / `.retry` topics: the topic they were derived from. */
  derivedFrom?: string;
  partitions: number;
  replication: number;
  cleanupPolicy: CleanupPolicy;
  /** -1 keeps forever. */
  retentionMs: number;
  keyType: 'string' | 'none';
  /** Avro full name of the value schema ('' when the records are not Avro events). */
  valueSchema: string;
  /** Component names, sorted. */
  producers: string[];
  consumers: string[];
  /** Every Kafka topic config the hub manages for this topic (what apply sets and compares). */
  configs: Record<string, string>;
}

export interface ComponentSummary {
  name: string;
  kind: ComponentKind;
  description: string;
  produces: string[];
  consumes: string[];
}

export interface Topology {
  /** Sorted by name. */
  topics: TopicSpec[];
  /** Sorted by name. */
  components: ComponentSummary[];
  /** Name prefixes the hub owns on the cluster; prune never looks outside them. */
  namespaces: string[];
}

export interface TopologyDefaults {
  partitions: number;
  replication: number;
  /** Retention of event (delete-policy) topics. */
  retentionMs: number;
  /** Retention of `.dlq` topics: long enough for a person to look. */
  deadLetterRetentionMs: number;
  /** Retention of `.retry` topics. */
  retryRetentionMs: number;
}

export const defaultTopologyDefaults: TopologyDefaults = {
  partitions: 3,
  replication: 1,
  retentionMs: 7 * 24 * 3600 * 1000,
  deadLetterRetentionMs: 30 * 24 * 3600 * 1000,
  retryRetentionMs: 7 * 24 * 3600 * 1000,
};

export interface BuildOptions {
  defaults?: Partial<TopologyDefaults>;
  /** Test-only: prepended to every topic name so parallel tests never share topics. */
  prefix?: string;
  /** Tells whether an Avro full name exists in the schema catalog; skipped when absent. */
  schemaExists?: (fullName: string) => boolean;
}

export interface TopologyProblem {
  declaration: string;
  topic: string;
  message: string;
}

/** A topology that cannot be built; `problems` lists every finding, each naming declaration and topic. */
export class TopologyError extends HubError {
  readonly problems: TopologyProblem[];
  constructor(problems: TopologyProblem[]) {
    const first = problems[0];
    super(
      'TOPOLOGY_INVALID',
      `the topology is invalid:\n${problems.map((p) => `  - declaration "${p.declaration}", topic "${p.topic}": ${p.message}`).join('\n')}`,
      {
        ...(first ? { where: { declaration: first.declaration, topic: first.topic } } : {}),
        hint: 'fix the component declarations named above',
      },
    );
    this.name = 'TopologyError';
    this.problems = problems;
  }
}

/** Replication the hub uses by default: TRIBUTARY_REPLICATION when set, else min(3, brokers). */
export function defaultReplication(brokerCount: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TRIBUTARY_REPLICATION;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) {
      throw new HubError('CONFIG_INVALID', `TRIBUTARY_REPLICATION must be a positive integer, got "${raw}"`, {
        where: { field: 'TRIBUTARY_REPLICATION' },
      });
    }
    return n;
  }
  return Math.max(1, Math.min(3, brokerCount));
}

/** min.insync.replicas that keeps acks=all writes safe yet lets one replica be down. */
function minInsync(replication: number): number {
  return replication >= 3 ? 2 : 1;
}

/** Builds and validates the topology; throws TopologyError listing every problem found. */
export function buildTopology(
  declarations: readonly ComponentDeclaration[],
  options: BuildOptions = {},
): Topology {
  const d: TopologyDefaults = { ...defaultTopologyDefaults, ...options.defaults };
  const prefix = options.prefix ?? '';
  const problems: TopologyProblem[] = [];
  const topics = new Map<string, TopicSpec>();
  const declaredNames = new Set<string>();

  const seenComponents = new Map<string, number>();
  for (const decl of declarations) seenComponents.set(decl.name, (seenComponents.get(decl.name) ?? 0) + 1);
  for (const [name, count] of seenComponents) {
    if (count > 1)
      problems.push({ declaration: name, topic: '-', message: `component declared ${count} times` });
  }

  for (const decl of declarations) {
    for (const t of decl.topics) {
      const check = checkTopicName(t.name);
      if (!check.ok || !check.role) {
        problems.push({
          declaration: decl.name,
          topic: t.name,
          message: `name breaks the convention: ${check.reason}`,
        });
        continue;
      }
      const name = prefix + t.name;
      const previous = topics.get(name);
      if (previous) {
        problems.push({
          declaration: decl.name,
          topic: t.name,
          message: `owned twice: also declared by "${previous.owner}"`,
        });
        continue;
      }
      // An empty valueSchema marks a topic whose records are not Avro events (e.g. the schema log).
      if (options.schemaExists && t.valueSchema !== '' && !options.schemaExists(t.valueSchema)) {
        problems.push({
          declaration: decl.name,
          topic: t.name,
          message: `value schema "${t.valueSchema}" is not in the schema catalog`,
        });
      }
      const cleanupPolicy = t.cleanupPolicy ?? (check.role === 'state' ? 'compact' : 'delete');
      const retentionMs = t.retentionMs ?? (cleanupPolicy === 'compact' ? -1 : d.retentionMs);
      const partitions = t.partitions ?? (check.role === 'state' ? 1 : d.partitions);
      declaredNames.add(t.name);
      topics.set(name, {
        name,
        description: t.description,
        role: check.role,
        owner: decl.name,
        partitions,
        replication: d.replication,
        cleanupPolicy,
        retentionMs,
        keyType: t.keyType ?? 'string',
        valueSchema: t.valueSchema,
        producers: [],
        consumers: [],
        configs: {
          'cleanup.policy': cleanupPolicy,
          'retention.ms': String(retentionMs),
          'min.insync.replicas': String(minInsync(d.replication)),
          ...t.configs,
        },
      });
    }
  }

  // Derived dead-letter and retry topics: same partitions (keys keep their partition), same schema.
  for (const decl of declarations) {
    for (const t of decl.topics) {
      const base = topics.get(prefix + t.name);
      if (!base || base.owner !== decl.name) continue;
      const derive = (suffix: 'dlq' | 'retry', retentionMs: number) => {
        const name = `${base.name}.${suffix}`;
        topics.set(name, {
          ...base,
          name,
          description: `${suffix === 'dlq' ? 'Dead letters' : 'Delayed retries'} of ${t.name}`,
          role: suffix,
          derivedFrom: base.name,
          cleanupPolicy: 'delete',
          retentionMs,
          producers: [],
          consumers: [],
          configs: { ...base.configs, 'cleanup.policy': 'delete', 'retention.ms': String(retentionMs) },
        });
      };
      if (t.deadLetter) derive('dlq', d.deadLetterRetentionMs);
      if (t.retry) derive('retry', d.retryRetentionMs);
    }
  }

  for (const decl of declarations) {
    const link = (refs: string[], side: 'producers' | 'consumers') => {
      for (const ref of refs) {
        const topic = topics.get(prefix + ref);
        if (!topic) {
          const verb = side === 'producers' ? 'produces' : 'consumes';
          problems.push({
            declaration: decl.name,
            topic: ref,
            message: `${verb} a topic no declaration owns`,
          });
          continue;
        }
        if (!topic[side].includes(decl.name)) topic[side].push(decl.name);
      }
    };
    link(decl.produces, 'producers');
    link(decl.consumes, 'consumers');
    // A command is published to a topic its component owns and answered on a topic that exists.
    for (const cmd of decl.commands ?? []) {
      if (!decl.topics.some((t) => t.name === cmd.topic)) {
        problems.push({
          declaration: decl.name,
          topic: cmd.topic,
          message: `command "${cmd.name}" is published to a topic this declaration does not own`,
        });
      }
      if (!topics.has(prefix + cmd.resultTopic)) {
        problems.push({
          declaration: decl.name,
          topic: cmd.resultTopic,
          message: `command "${cmd.name}" answers on a topic no declaration owns`,
        });
      }
    }
  }

  // A consumer of a topic writes its dead letters and retries; the retry topic is read back by it.
  for (const topic of topics.values()) {
    if (!topic.derivedFrom) continue;
    const base = topics.get(topic.derivedFrom);
    if (!base) continue;
    for (const c of base.consumers) {
      if (!topic.producers.includes(c)) topic.producers.push(c);
      if (topic.role === 'retry' && !topic.consumers.includes(c)) topic.consumers.push(c);
    }
  }

  if (problems.length > 0) throw new TopologyError(problems);

  const sortedTopics = [...topics.values()]
    .map((t) => ({ ...t, producers: [...t.producers].sort(), consumers: [...t.consumers].sort() }))
    .sort(byName);
  const namespaces = [...new Set([...declaredNames].map(namespaceOf))].sort().map((ns) => `${prefix}${ns}.`);
  const components = declarations
    .map((decl) => ({
      name: decl.name,
      kind: decl.kind,
      description: decl.description,
      produces: decl.produces.map((r) => prefix + r).sort(),
      consumes: decl.consumes.map((r) => prefix + r).sort(),
    }))
    .sort(byName);
  return { topics: sortedTopics, components, namespaces };
}

/** Code-point order, so output never depends on the machine's locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName(a: { name: string }, b: { name: string }): number {
  return compareNames(a.name, b.name);
}
