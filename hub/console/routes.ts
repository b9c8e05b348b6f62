import type { Answer } from '../http.ts';
import { buildOverview, type OverviewSource } from './overview.ts';
import { consolePage } from './page.ts';

/** The console's routes on the health server: the page, its data and the topology picture. */
export function consoleRoutes(
  source: OverviewSource & { topologySvg: () => Promise<string> | undefined },
): Record<string, () => Promise<Answer>> {
  const page = consolePage();
  return {
    '/': async () => ({ status: 200, type: 'text/html; charset=utf-8', body: page }),
    '/api/overview': async () => ({
      status: 200,
      type: 'application/json',
      body: JSON.stringify(buildOverview(source)),
    }),
    '/api/topology.svg': async () => {
      const svg = source.topologySvg();
      if (!svg)
        return { status: 503, type: 'text/plain', body: 'the topology is drawn once Kafka is reached' };
      try {
        return { status: 200, type: 'image/svg+xml', body: await svg };
      } catch (err) {
        return {
          status: 500,
          type: 'text/plain',
          body: `cannot draw the topology: ${(err as Error).message}`,
        };
      }
    },
  };
}
