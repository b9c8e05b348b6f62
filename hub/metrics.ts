import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { breakerCode, digestStatus, wellKnownCounters } from './status-digest.ts';

/**
 * The hub's Prometheus metrics (prom-client, own registry): default process metrics plus
 * per-component figures read from each component's `status()` on every scrape.
 *
 * - tributary_component_up{component}: 1 while running
 * - tributary_component_<counter>_total{component}: processed, dead_lettered, retries, ... (from status)
 * - tributary_component_breaker_state{component,breaker}: 0 closed, 1 half-open, 2 open
 * - tributary_consumer_lag{component,group}: summed lag of the component's consumer groups
 * - tributary_component_status{component,field}: every other numeric field of status()
 * - tributary_component_lifecycle_seconds{component,phase}: start and close durations (histogram)
 */

export interface MetricsSource {
  name: string;
  state(): string;
  status(): unknown;
}

export interface HubMetrics {
  readonly registry: Registry;
  /** Records how long a component took to start or close. */
  observeLifecycle(component: string, phase: 'start' | 'close', seconds: number): void;
  /** Sets the latest lag of a component's consumer group. */
  setLag(component: string, group: string, lag: number): void;
  /** Reads every component's status into the metrics; then renders the exposition text. */
  render(): Promise<string>;
  readonly contentType: string;
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Builds the metrics of one hub process over the given components. */
export function createHubMetrics(options: {
  instanceId: string;
  version: string;
  components: () => readonly MetricsSource[];
}): HubMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ instance_id: options.instanceId });
  collectDefaultMetrics({ register: registry, prefix: 'tributary_' });
  new Gauge({
    name: 'tributary_instance_info',
    help: 'Always 1; labels carry the hub version',
    labelNames: ['version'],
    registers: [registry],
  }).set({ version: options.version }, 1);
  const up = new Gauge({
    name: 'tributary_component_up',
    help: '1 while the component runs, 0 otherwise',
    labelNames: ['component'],
    registers: [registry],
  });
  const counters = new Map(
    wellKnownCounters.map((c) => [
      c,
      new Counter({
        name: `tributary_component_${snake(c)}_total`,
        help: `Records ${snake(c).replaceAll('_', ' ')} by the component (from its status)`,
        labelNames: ['component'],
        registers: [registry],
      }),
    ]),
  );
  const breaker = new Gauge({
    name: 'tributary_component_breaker_state',
    help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
    labelNames: ['component', 'breaker'],
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'tributary_consumer_lag',
    help: 'Records not yet consumed by the component group, summed over partitions',
    labelNames: ['component', 'group'],
    registers: [registry],
  });
  const fields = new Gauge({
    name: 'tributary_component_status',
    help: 'Numeric fields of the component status, by dotted path',
    labelNames: ['component', 'field'],
    registers: [registry],
  });
  const lifecycle = new Histogram({
    name: 'tributary_component_lifecycle_seconds',
    help: 'How long components took to start and to close',
    labelNames: ['component', 'phase'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  // Last counter value seen per component, so a Counter only ever moves forward.
  const lastSeen = new Map<string, number>();

  function update(): void {
    for (const source of options.components()) {
      const component = source.name;
      up.set({ component }, source.state() === 'running' ? 1 : 0);
      let digest: ReturnType<typeof digestStatus>;
      try {
        digest = digestStatus(source.status());
      } catch {
        continue; // a status that throws must not break the scrape
      }
      for (const [name, counter] of counters) {
        const value = digest.counters[name];
        if (value === undefined) continue;
        const key = `${component}\u0000${name}`;
        const previous = lastSeen.get(key) ?? 0;
        // A smaller value means the component started over: count the new run from zero.
        const delta = value >= previous ? value - previous : value;
        if (delta > 0) counter.inc({ component }, delta);
        else counter.inc({ component }, 0);
        lastSeen.set(key, value);
      }
      for (const [path, state] of Object.entries(digest.breakers)) {
        breaker.set({ component, breaker: path }, breakerCode(state));
      }
      for (const [path, value] of Object.entries(digest.numbers))
        fields.set({ component, field: path }, value);
    }
  }

  return {
    registry,
    contentType: registry.contentType,
    observeLifecycle: (component, phase, seconds) => lifecycle.observe({ component, phase }, seconds),
    setLag: (component, group, value) => lag.set({ component, group }, value),
    async render() {
      update();
      return await registry.metrics();
    },
  };
}
