import { describe, expect, it } from 'vitest';
import type { ComponentDeclaration } from '../../platform/declaration.ts';
import { buildTopology, defaultReplication, TopologyError } from '../../topology/build.ts';
import { checkTopicName } from '../../topology/names.ts';
import { testDeclarations } from './fixtures.ts';

function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TopologyError);
    return (err as TopologyError).problems;
  }
  throw new Error('expected a TopologyError');
}

describe('buildTopology', () => {
  it('derives every topic with its settings, owners, producers and consumers', () => {
    const topology = buildTopology(testDeclarations(), { defaults: { replication: 2, partitions: 4 } });
    const names = topology.topics.map((t) => t.name);
    expect(names).toEqual([
      '_tributary.schemas',
      'crm.contact.changed',
      'crm.contact.changed.dlq',
      'crm.contact.upsert.cmd',
      'crm.contact.upsert.cmd.dlq',
      'crm.contact.upsert.cmd.retry',
      'hub.actions',
      'media.image.analyze.req',
      'media.image.analyze.res',
    ]);
    const byName = new Map(topology.topics.map((t) => [t.name, t]));
    const state = byName.get('_tributary.schemas');
    expect(state).toMatchObject({ cleanupPolicy: 'compact', retentionMs: -1, partitions: 1, role: 'state' });
    expect(state?.configs['cleanup.policy']).toBe('compact');
    const changed = byName.get('crm.contact.changed');
    expect(changed).toMatchObject({
      owner: 'connector.crm',
      partitions: 4,
      replication: 2,
      cleanupPolicy: 'delete',
      valueSchema: 'tributary.crm.ContactChanged',
      producers: ['connector.crm'],
      consumers: ['mcp-bridge'],
    });
    expect(byName.get('hub.actions')).toMatchObject({
      producers: ['connector.crm', 'hub', 'mcp-bridge', 'processor.image'],
      consumers: ['audit'],
    });
    const dlq = byName.get('crm.contact.upsert.cmd.dlq');
    expect(dlq).toMatchObject({
      role: 'dlq',
      derivedFrom: 'crm.contact.upsert.cmd',
      partitions: 4,
      valueSchema: 'tributary.crm.ContactUpsert',
      producers: ['connector.crm'],
      consumers: [],
    });
    expect(byName.get('crm.contact.upsert.cmd.retry')).toMatchObject({
      role: 'retry',
      producers: ['connector.crm'],
      consumers: ['connector.crm'],
    });
    expect(topology.namespaces).toEqual(['_tributary.', 'crm.', 'hub.', 'media.']);
    expect(topology.components.map((c) => c.name)).toEqual([
      'audit',
      'connector.crm',
      'hub',
      'mcp-bridge',
      'processor.image',
    ]);
  });

  it('prefixes every topic and namespace for tests', () => {
    const topology = buildTopology(testDeclarations(), { prefix: 'tx.' });
    expect(topology.topics.every((t) => t.name.startsWith('tx.'))).toBe(true);
    expect(topology.namespaces.every((n) => n.startsWith('tx.'))).toBe(true);
  });

  it('rejects a topic owned twice, naming both declarations and the topic', () => {
    const decls = testDeclarations();
    const audit = decls.find((d) => d.name === 'audit') as ComponentDeclaration;
    audit.topics.push({ name: 'hub.actions', description: 'again', valueSchema: 'tributary.audit.Action' });
    const problems = problemsOf(() => buildTopology(decls));
    expect(problems).toEqual([
      { declaration: 'audit', topic: 'hub.actions', message: 'owned twice: also declared by "hub"' },
    ]);
  });

  it('rejects a produced or consumed topic that no declaration owns', () => {
    const decls = testDeclarations();
    const bridge = decls.find((d) => d.name === 'mcp-bridge') as ComponentDeclaration;
    bridge.consumes.push('crm.contact.deleted');
    bridge.produces.push('hr.user.provision.cmd');
    const problems = problemsOf(() => buildTopology(decls));
    expect(problems.map((p) => `${p.declaration} ${p.topic} ${p.message}`)).toEqual([
      'mcp-bridge hr.user.provision.cmd produces a topic no declaration owns',
      'mcp-bridge crm.contact.deleted consumes a topic no declaration owns',
    ]);
  });

  it('rejects a value schema missing from the catalog', () => {
    const known = new Set(['tributary.audit.Action', 'tributary.crm.ContactChanged']);
    const problems = problemsOf(() =>
      buildTopology(testDeclarations(), { schemaExists: (n) => known.has(n) }),
    );
    expect(problems.map((p) => p.topic)).toEqual([
      '_tributary.schemas',
      'crm.contact.upsert.cmd',
      'media.image.analyze.req',
      'media.image.analyze.res',
    ]);
    expect(problems[1]?.message).toBe(
      'value schema "tributary.crm.ContactUpsert" is not in the schema catalog',
    );
  });

  it('rejects names outside the convention and declared .dlq topics', () => {
    const decls = testDeclarations({ extraTopic: 'CRM.Contact' });
    (decls[1] as ComponentDeclaration).topics.push({
      name: 'crm.contact.changed.dlq',
      description: 'hand-made',
      valueSchema: 'tributary.crm.ContactChanged',
    });
    const problems = problemsOf(() => buildTopology(decls));
    expect(problems.map((p) => [p.declaration, p.topic])).toEqual([
      ['connector.crm', 'CRM.Contact'],
      ['connector.crm', 'crm.contact.changed.dlq'],
    ]);
    expect(problems[1]?.message).toContain('derived by the topology');
  });

  it('puts every problem in the error message', () => {
    const decls = testDeclarations();
    (decls[3] as ComponentDeclaration).consumes.push('ops.nothing.here');
    expect(() => buildTopology(decls)).toThrow(/declaration "audit", topic "ops.nothing.here"/);
  });
});

describe('topic names', () => {
  it.each([
    ['crm.contact.changed', 'event'],
    ['crm.contact.upsert.cmd', 'command'],
    ['media.image.analyze.req', 'request'],
    ['media.image.analyze.res', 'result'],
    ['hub.actions', 'hub'],
    ['_tributary.source-offsets', 'state'],
  ])('%s is a %s topic', (name, role) => {
    expect(checkTopicName(name)).toEqual({ ok: true, role });
  });

  it.each([
    'crm.contact',
    'crm.contact.changed.v2.extra',
    'crm.upsert.cmd',
    'crm.Contact.changed',
    'x.y.z.retry',
    '__consumer_offsets',
  ])('%s is refused', (name) => {
    expect(checkTopicName(name).ok).toBe(false);
  });
});

describe('defaultReplication', () => {
  it('is min(3, brokers) unless TRIBUTARY_REPLICATION says otherwise', () => {
    expect(defaultReplication(1, {})).toBe(1);
    expect(defaultReplication(3, {})).toBe(3);
    expect(defaultReplication(5, {})).toBe(3);
    expect(defaultReplication(5, { TRIBUTARY_REPLICATION: '2' })).toBe(2);
    expect(() => defaultReplication(1, { TRIBUTARY_REPLICATION: 'two' })).toThrow(/TRIBUTARY_REPLICATION/);
  });
});

describe('command declarations', () => {
  it('must publish to a topic of their own component and answer on a declared topic', () => {
    const decls = testDeclarations();
    const crm = decls[1] as ComponentDeclaration;
    crm.commands = [
      {
        name: 'crm.contact.upsert',
        description: 'upsert',
        topic: 'crm.contact.upsert.cmd',
        resultTopic: 'crm.contact.changed',
        mutating: true,
      },
    ];
    expect(() => buildTopology(decls)).not.toThrow();
    crm.commands.push({
      name: 'image.analyze',
      description: 'not ours',
      topic: 'media.image.analyze.req',
      resultTopic: 'media.image.analyzed',
      mutating: false,
    });
    const problems = problemsOf(() => buildTopology(decls));
    expect(problems).toEqual([
      {
        declaration: 'connector.crm',
        topic: 'media.image.analyze.req',
        message: 'command "image.analyze" is published to a topic this declaration does not own',
      },
      {
        declaration: 'connector.crm',
        topic: 'media.image.analyzed',
        message: 'command "image.analyze" answers on a topic no declaration owns',
      },
    ]);
  });
});
