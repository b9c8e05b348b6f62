import { describe, expect, it } from 'vitest';
import {
  defaultReadyTimeoutMs,
  nodeLayout,
  portsFromBase,
  serverProperties,
} from '../../kit/kafka/config.ts';

function propertiesOf(nodes: number): Record<string, string> {
  const ports = portsFromBase(29092, nodes);
  const all = ports.map((p, i) => nodeLayout('/kit', i + 1, p.port, p.controllerPort));
  return Object.fromEntries(
    serverProperties(all[0]!, all)
      .trim()
      .split('\n')
      .map((line) => line.split('=', 2) as [string, string]),
  );
}

describe('kit broker properties', () => {
  it.each([1, 3])('a %i-node broker waits to register longer than the kit waits for the cluster', (nodes) => {
    // Kafka's default (60 s) made a broker of a three-node start on a loaded CI machine shut
    // itself down before the quorum registered it.
    const registration = Number(propertiesOf(nodes)['initial.broker.registration.timeout.ms']);
    expect(registration).toBeGreaterThan(defaultReadyTimeoutMs(nodes));
    expect(registration).toBeGreaterThan(60_000);
  });
});
