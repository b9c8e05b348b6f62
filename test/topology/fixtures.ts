import { z } from 'zod';
import { createHubAdmin, type HubAdmin } from '../../platform/admin.ts';
import type { Component, ComponentDeclaration, TopicDeclaration } from '../../platform/declaration.ts';
import { testKafka } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

/** Test-only declarations shaped like the hub's: a connector, a processor, the bridge, audit and hub. */

const idle = (): Component => ({ start: async () => {}, close: async () => {} });

function declaration(
  name: string,
  kind: ComponentDeclaration['kind'],
  topics: TopicDeclaration[],
  produces: string[],
  consumes: string[],
): ComponentDeclaration {
  return {
    name,
    kind,
    description: `test ${name}`,
    config: z.object({}),
    topics,
    produces,
    consumes,
    create: idle,
  };
}

export interface FixtureTweaks {
  /** Retention of crm.contact.changed. */
  contactRetentionMs?: number;
  /** Partitions of crm.contact.changed. */
  contactPartitions?: number;
  /** An extra event topic owned by the connector. */
  extraTopic?: string;
}

export function testDeclarations(tweaks: FixtureTweaks = {}): ComponentDeclaration[] {
  return [
    declaration(
      'hub',
      'hub',
      [
        { name: 'hub.actions', description: 'audit actions', valueSchema: 'tributary.audit.Action' },
        { name: '_tributary.schemas', description: 'schema log', valueSchema: 'tributary.ops.SchemaRecord' },
      ],
      ['hub.actions', '_tributary.schemas'],
      ['_tributary.schemas'],
    ),
    declaration(
      'connector.crm',
      'connector',
      [
        {
          name: 'crm.contact.changed',
          description: 'contact changed',
          valueSchema: 'tributary.crm.ContactChanged',
          deadLetter: true,
          ...(tweaks.contactRetentionMs !== undefined ? { retentionMs: tweaks.contactRetentionMs } : {}),
          ...(tweaks.contactPartitions !== undefined ? { partitions: tweaks.contactPartitions } : {}),
        },
        {
          name: 'crm.contact.upsert.cmd',
          description: 'upsert a contact',
          valueSchema: 'tributary.crm.ContactUpsert',
          deadLetter: true,
          retry: true,
        },
        ...(tweaks.extraTopic
          ? [{ name: tweaks.extraTopic, description: 'extra', valueSchema: 'tributary.crm.ContactChanged' }]
          : []),
      ],
      ['crm.contact.changed', 'hub.actions'],
      ['crm.contact.upsert.cmd'],
    ),
    declaration(
      'processor.image',
      'processor',
      [
        {
          name: 'media.image.analyze.req',
          description: 'jobs',
          valueSchema: 'tributary.media.ImageAnalyzeRequest',
        },
        {
          name: 'media.image.analyze.res',
          description: 'results',
          valueSchema: 'tributary.media.ImageAnalyzeResult',
        },
      ],
      ['media.image.analyze.res', 'hub.actions'],
      ['media.image.analyze.req'],
    ),
    declaration('audit', 'audit', [], [], ['hub.actions']),
    declaration(
      'mcp-bridge',
      'bridge',
      [],
      ['crm.contact.upsert.cmd', 'media.image.analyze.req', 'hub.actions'],
      ['media.image.analyze.res', 'crm.contact.changed'],
    ),
  ];
}

/** A fresh topic-name prefix per test, so tests on a shared broker never meet. */
export function randomPrefix(): string {
  return `${uniqueName('t')}.`;
}

/** An admin client on the test run's broker (the shared harness: KAFKA_BROKERS, container or kit). */
export function brokerAdmin(): HubAdmin {
  return createHubAdmin(testKafka().kafka);
}

/** Deletes every topic starting with the prefix. */
export async function dropPrefixed(admin: HubAdmin, prefix: string): Promise<void> {
  const names = (await admin.listTopicNames()).filter((n) => n.startsWith(prefix));
  await admin.deleteTopics(names);
}
