import type { ComponentDeclaration } from '../platform/declaration.ts';
import { loadCatalog } from '../schemas/src/catalog.ts';
import { type BuildOptions, buildTopology, defaultReplication, type Topology } from './build.ts';
import { hubDeclarations } from './declarations.ts';

export interface HubTopologyOptions {
  /** Brokers in the cluster; sets the default replication (min(3, brokers)). 1 when unknown. */
  brokerCount?: number;
  env?: NodeJS.ProcessEnv;
  /** Test-only topic name prefix. */
  prefix?: string;
  /** Declarations to use instead of the hub's (tests). */
  declarations?: readonly ComponentDeclaration[];
  schemaExists?: BuildOptions['schemaExists'];
}

/** The hub's topology from its declarations, with replication from the cluster size or TRIBUTARY_REPLICATION. */
export function buildHubTopology(options: HubTopologyOptions = {}): Topology {
  const replication = defaultReplication(options.brokerCount ?? 1, options.env ?? process.env);
  return buildTopology(options.declarations ?? hubDeclarations, {
    defaults: { replication },
    ...(options.prefix ? { prefix: options.prefix } : {}),
    ...(options.schemaExists ? { schemaExists: options.schemaExists } : {}),
  });
}

/** The schema check buildTopology uses: is this Avro full name in the repository's schema catalog? */
export async function catalogSchemaCheck(rootDir?: string): Promise<(fullName: string) => boolean> {
  const catalog = await loadCatalog(rootDir);
  return (fullName) => catalog.has(fullName);
}
