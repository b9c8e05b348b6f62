import { HubError } from '../core/errors.ts';
import { portAcceptsConnections } from '../kit/redis.ts';

/**
 * The demo ERP (OData v4 on SAP CAP), CRM (Salesforce-style REST) and HR (SCIM 2.0) systems
 * `tributary up` starts next to the hub, one per enabled connector, each on its connector's
 * default port when free (else any free port), with the connector's config pointed at it.
 * Loaded lazily: CAP and scimmy are heavy, and production never runs them.
 */

export interface DemoSystem {
  /** The connector it serves, e.g. `connector.crm`. */
  connector: string;
  title: string;
  url: string;
  /** Config section keys that point the connector at this system. */
  section: Record<string, unknown>;
  close(): Promise<void>;
}

interface DemoSpec {
  connector: string;
  title: string;
  port: number;
  /** Starts it seeded with sample data, changing a record every `changeEveryMs` (0: never). */
  start(port: number, changeEveryMs: number): Promise<DemoSystem>;
}

const specs: DemoSpec[] = [
  {
    connector: 'connector.erp',
    title: 'demo ERP (OData v4)',
    port: 4004,
    async start(port, every) {
      const { startErpServer } = await import('../demo/erp-server/server.ts');
      const { seedErp, seededRandom } = await import('../demo/seed.ts');
      const { tickErp } = await import('../demo/index.ts');
      const erp = await startErpServer({ port });
      await seedErp(erp);
      const random = seededRandom(4);
      const stop = ticking(every, () => tickErp(erp, random));
      return {
        connector: this.connector,
        title: this.title,
        url: erp.url,
        section: { http: { endpoints: { urls: [erp.url] } } },
        close: async () => {
          stop();
          await erp.close();
        },
      };
    },
  },
  {
    connector: 'connector.crm',
    title: 'demo CRM (Salesforce-style REST)',
    port: 4713,
    async start(port, every) {
      const { crmConnectorHttp, startCrmServer } = await import('../demo/crm-server/server.ts');
      const { seedCrm, seededRandom } = await import('../demo/seed.ts');
      const { tickCrm } = await import('../demo/index.ts');
      const crm = await startCrmServer({ port });
      seedCrm(crm);
      const random = seededRandom(5);
      const stop = ticking(every, () => tickCrm(crm, random));
      return {
        connector: this.connector,
        title: this.title,
        url: crm.url,
        section: {
          http: crmConnectorHttp(crm),
        },
        close: async () => {
          stop();
          await crm.close();
        },
      };
    },
  },
  {
    connector: 'connector.hr',
    title: 'demo HR (SCIM 2.0)',
    port: 4714,
    async start(port, every) {
      const { startHrServer } = await import('../demo/hr-server/server.ts');
      const { seedHr, seededRandom } = await import('../demo/seed.ts');
      const { tickHr } = await import('../demo/index.ts');
      const hr = await startHrServer({ port });
      seedHr(hr);
      const random = seededRandom(6);
      const stop = ticking(every, () => tickHr(hr, random));
      return {
        connector: this.connector,
        title: this.title,
        url: hr.url,
        section: {
          http: { endpoints: { urls: [hr.url] }, auth: { type: 'bearer', token: { value: hr.token } } },
        },
        close: async () => {
          stop();
          await hr.close();
        },
      };
    },
  },
];

/** Calls `tick` every `everyMs` (never when 0) without keeping the process alive; returns its stop. */
function ticking(everyMs: number, tick: () => unknown): () => void {
  if (everyMs <= 0) return () => undefined;
  const timer = setInterval(() => {
    void Promise.resolve()
      .then(tick)
      .catch(() => undefined);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Starts the demo system of every enabled connector that has one, seeded, with a record changed
 * every `changeEveryMs` (DEMO_CHANGE_EVERY_MS, default 5 s; 0 never) so events keep flowing;
 * on failure closes those started.
 */
export async function startDemoSystems(
  enabled: readonly string[],
  changeEveryMs = 5_000,
): Promise<DemoSystem[]> {
  const started: DemoSystem[] = [];
  try {
    for (const spec of specs.filter((s) => enabled.includes(s.connector))) {
      // Probe first: the demo servers do not report a taken port, they crash on it.
      const taken = await portAcceptsConnections(spec.port);
      started.push(await spec.start(taken ? 0 : spec.port, changeEveryMs));
    }
    return started;
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw err;
  }
}

/** DEMO_CHANGE_EVERY_MS: how often a demo system changes a record (0 never); 5 s by default. */
export function demoChangeEveryMs(env: NodeJS.ProcessEnv): number {
  const raw = env.DEMO_CHANGE_EVERY_MS;
  if (raw === undefined || raw === '') return 5_000;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0)
    throw new HubError(
      'CONFIG_INVALID',
      `DEMO_CHANGE_EVERY_MS must be a whole number of milliseconds (0: never), got "${raw}"`,
      { where: { setting: 'DEMO_CHANGE_EVERY_MS' } },
    );
  return ms;
}
