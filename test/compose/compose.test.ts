import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { nodeLayout, portsFromBase, serverProperties } from '../../kit/kafka/config.ts';
import { kafkaVersion } from '../../kit/kafka/index.ts';
import { buildHubTopology } from '../../topology/hub-topology.ts';

/**
 * docker-compose.yml must describe the same stack as the local kit (`tributary kafka up --nodes 3`)
 * and the topology, so it cannot rot unseen where no container runtime runs it.
 */
interface ComposeService {
  image?: string;
  ports?: string[];
  environment?: Record<string, string | number>;
  command?: string[];
}

const composeFile = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));
const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const kafkaServices = Object.entries(compose.services)
  .filter(([name]) => /^kafka-\d+$/.test(name))
  .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
const kitPorts = portsFromBase(9092, 3);
const kitProperties = Object.fromEntries(
  serverProperties(
    nodeLayout('/kit', 1, kitPorts[0]!.port, kitPorts[0]!.controllerPort),
    kitPorts.map((p, i) => nodeLayout('/kit', i + 1, p.port, p.controllerPort)),
  )
    .trim()
    .split('\n')
    .map((line) => line.split('=', 2) as [string, string]),
);

/** Kafka's image reads server.properties keys as KAFKA_ + upper snake case. */
function kafkaEnv(service: ComposeService, property: string): string | undefined {
  const value = service.environment?.[`KAFKA_${property.toUpperCase().replaceAll('.', '_')}`];
  return value === undefined ? undefined : String(value);
}

describe('docker-compose.yml', () => {
  it('runs three Kafka nodes of the kit version on the kit three-node ports', () => {
    expect(kafkaServices.map(([name]) => name)).toEqual(['kafka-1', 'kafka-2', 'kafka-3']);
    kafkaServices.forEach(([, service], i) => {
      expect(service.image).toBe(`apache/kafka:${kafkaVersion}`);
      const published = (service.ports ?? []).map((p) => Number(p.split(':')[0]));
      expect(published).toEqual([kitPorts[i]!.port]);
      expect(kafkaEnv(service, 'node.id')).toBe(String(i + 1));
      expect(kafkaEnv(service, 'listeners')).toContain(`CONTROLLER://:${kitPorts[i]!.controllerPort}`);
    });
    const voters = kitPorts.map((p, i) => `${i + 1}@kafka-${i + 1}:${p.controllerPort}`).join(',');
    for (const [, service] of kafkaServices)
      expect(kafkaEnv(service, 'controller.quorum.voters')).toBe(voters);
  });

  it('uses the same replication and ISR settings as the kit with three nodes', () => {
    const keys = [
      'default.replication.factor',
      'min.insync.replicas',
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
      'transaction.state.log.min.isr',
      'share.coordinator.state.topic.replication.factor',
      'share.coordinator.state.topic.min.isr',
      'group.initial.rebalance.delay.ms',
    ];
    for (const [name, service] of kafkaServices) {
      for (const key of keys) expect(kafkaEnv(service, key), `${name} ${key}`).toBe(kitProperties[key]);
    }
  });

  it('points the hub at every broker and gives its topics the replication the topology derives', () => {
    const hub = compose.services.hub;
    expect(hub?.command).toEqual(['bin/tributary', 'up']);
    const brokers = String(hub?.environment?.KAFKA_BROKERS).split(',');
    expect(brokers).toEqual(kafkaServices.map(([name]) => `${name}:19092`));
    for (const [name, service] of kafkaServices) {
      expect(kafkaEnv(service, 'advertised.listeners')).toContain(`INTERNAL://${name}:19092`);
    }
    const env = { TRIBUTARY_REPLICATION: String(hub?.environment?.TRIBUTARY_REPLICATION) };
    const fromCompose = buildHubTopology({ brokerCount: kafkaServices.length, env });
    const fromCluster = buildHubTopology({ brokerCount: kafkaServices.length, env: {} });
    expect(fromCompose.topics.length).toBeGreaterThan(0);
    expect(fromCompose.topics.map((t) => [t.name, t.replication, t.configs])).toEqual(
      fromCluster.topics.map((t) => [t.name, t.replication, t.configs]),
    );
    for (const topic of fromCompose.topics) {
      expect(topic.replication).toBe(Number(kitProperties['default.replication.factor']));
      expect(topic.configs['min.insync.replicas']).toBe(kitProperties['min.insync.replicas']);
    }
  });

  it('brings the services the hub needs: Redis and OpenLDAP', () => {
    expect(compose.services.redis?.image).toMatch(/^redis:/);
    expect(compose.services.openldap?.image).toMatch(/openldap/);
    expect(compose.services.hub?.environment?.REDIS_URL).toBe('redis://redis:6379');
    expect(String(compose.services.hub?.environment?.LDAP_URL)).toMatch(/^ldap:\/\/openldap:/);
  });
});
