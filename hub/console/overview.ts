import type { Readiness } from '../http.ts';
import type { ComponentBeat } from '../registry.ts';
import { digestStatus } from '../status-digest.ts';

/**
 * The console's one data call (`/api/overview`): this instance, its readiness and, per
 * component, its state, well-known counters, breaker states and the lag measured at the last
 * heartbeat. The page polls it and draws the charts from successive answers.
 */

export interface ComponentOverview {
  name: string;
  state: string;
  counters: Record<string, number>;
  breakers: Record<string, string>;
  lag: number | null;
}

export interface Overview {
  instanceId: string;
  version: string;
  time: number;
  readiness: Readiness;
  components: ComponentOverview[];
}

export interface OverviewSource {
  instanceId: string;
  version: string;
  readiness(): Readiness;
  components(): readonly { name: string; state(): string; status(): unknown }[];
  /** The latest heartbeat's part per component (lag is measured there, not on every poll). */
  lastBeats(): ReadonlyMap<string, ComponentBeat>;
}

/** Builds the overview from the running hub. */
export function buildOverview(source: OverviewSource): Overview {
  const beats = source.lastBeats();
  return {
    instanceId: source.instanceId,
    version: source.version,
    time: Date.now(),
    readiness: source.readiness(),
    components: source.components().map((c) => {
      let digest: ReturnType<typeof digestStatus>;
      try {
        digest = digestStatus(c.status());
      } catch {
        digest = digestStatus({});
      }
      return {
        name: c.name,
        state: c.state(),
        counters: digest.counters,
        breakers: digest.breakers,
        lag: beats.get(c.name)?.lag ?? null,
      };
    }),
  };
}
