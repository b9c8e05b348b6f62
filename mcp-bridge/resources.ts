import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { SchemaCatalog } from '../schemas/index.ts';

/**
 * Read-only MCP resources: every Avro schema of the catalog (newest version, self-contained) at
 * `tributary://schemas/<full name>`, and the hub's topology at `tributary://topology`. The
 * topology is handed in by the caller (it lives above the components), as a function so each
 * read sees the current declarations.
 */

export interface BridgeResources {
  catalog?: SchemaCatalog;
  /** Returns the topology as JSON-ready data (topics, producers, consumers). */
  topology?: () => unknown | Promise<unknown>;
}

export const schemaUriPrefix = 'tributary://schemas/';
export const topologyUri = 'tributary://topology';

/** Registers the resources on one caller's server. */
export function registerBridgeResources(mcp: McpServer, resources: BridgeResources): void {
  const { catalog, topology } = resources;
  if (catalog) {
    mcp.registerResource(
      'schemas',
      new ResourceTemplate(`${schemaUriPrefix}{name}`, {
        list: () => ({
          resources: catalog.names().map((name) => ({
            uri: `${schemaUriPrefix}${name}`,
            name,
            mimeType: 'application/json',
            description: `Avro schema ${name}, version ${catalog.latest(name).version}`,
          })),
        }),
      }),
      {
        title: 'Event schemas',
        description: 'Avro schemas of every event the hub carries',
        mimeType: 'application/json',
      },
      (uri, variables) => {
        const name = String(variables.name);
        const entry = catalog.latest(name);
        return {
          contents: [
            { uri: uri.href, mimeType: 'application/json', text: JSON.stringify(entry.schema, null, 2) },
          ],
        };
      },
    );
  }
  if (topology) {
    mcp.registerResource(
      'topology',
      topologyUri,
      {
        title: 'Hub topology',
        description: 'Topics, their settings, producers and consumers',
        mimeType: 'application/json',
      },
      async (uri) => ({
        contents: [
          { uri: uri.href, mimeType: 'application/json', text: JSON.stringify(await topology(), null, 2) },
        ],
      }),
    );
  }
}
