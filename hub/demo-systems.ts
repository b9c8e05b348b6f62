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
  start(port: number): Promise<DemoSystem>;
}

const specs: DemoSpec[] = [
  {
    connector: 'connector.erp',
    title: 'demo ERP (OData v4)',
    port: 4004,
    async start(port) {
      const { startErpServer } = await import('../demo/erp-server/server.ts');
      const erp = await startErpServer({ port });
      return {
        connector: this.connector,
        title: this.title,
        url: erp.url,
        section: { http: { endpoints: { urls: [erp.url] } } },
        close: () => erp.close(),
      };
    },
  },
  {
    connector: 'connector.crm',
    title: 'demo CRM (Salesforce-style REST)',
    port: 4713,
    async start(port) {
      const { startCrmServer } = await import('../demo/crm-server/server.ts');
      const crm = await startCrmServer({ port });
      return {
        connector: this.connector,
        title: this.title,
        url: crm.url,
        section: {
          http: {
            endpoints: { urls: [crm.url] },
            auth: {
              type: 'oauth2-client-credentials',
              tokenUrl: `${crm.url}/services/oauth2/token`,
              clientId: crm.clientId,
              // The demo's own well-known secret; a real CRM's comes from { env } or { file }.
              clientSecret: { value: crm.clientSecret },
            },
          },
        },
        close: () => crm.close(),
      };
    },
  },
  {
    connector: 'connector.hr',
    title: 'demo HR (SCIM 2.0)',
    port: 4714,
    async start(port) {
      const { startHrServer } = await import('../demo/hr-server/server.ts');
      const hr = await startHrServer({ port });
      return {
        connector: this.connector,
        title: this.title,
        url: hr.url,
        section: {
          http: { endpoints: { urls: [hr.url] }, auth: { type: 'bearer', token: { value: hr.token } } },
        },
        close: () => hr.close(),
      };
    },
  },
];

/** Starts the demo system of every enabled connector that has one; on failure closes those started. */
export async function startDemoSystems(enabled: readonly string[]): Promise<DemoSystem[]> {
  const started: DemoSystem[] = [];
  try {
    for (const spec of specs.filter((s) => enabled.includes(s.connector))) {
      // Probe first: the demo servers do not report a taken port, they crash on it.
      const taken = await portAcceptsConnections(spec.port);
      started.push(await spec.start(taken ? 0 : spec.port));
    }
    return started;
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw err;
  }
}
