import { mcpBridgeDeclaration } from '../mcp-bridge/index.ts';
import type { ComponentDeclaration } from '../platform/declaration.ts';
import { ACTIONS_TOPIC } from '../platform/index.ts';
import { hubHostTools } from '../topology/hub-tools/index.ts';
import { INSTANCES_TOPIC } from './declaration.ts';
import type { PreparedSections } from './run-support.ts';

/**
 * The bridge declaration the hub hosts: the same one, plus the tools only the host can offer
 * (`replay.start`, `audit.verify`, `connectors.status`), which need layers a component may not
 * import. Other declarations pass through unchanged.
 */
export function withHostTools(
  declarations: readonly ComponentDeclaration[],
  prepared: PreparedSections,
  env: NodeJS.ProcessEnv,
  prefix: string,
): ComponentDeclaration[] {
  const audit = prepared.sections.audit as { keyFile?: unknown } | undefined;
  return declarations.map((declaration) =>
    declaration.name !== 'mcp-bridge'
      ? declaration
      : (mcpBridgeDeclaration(() => declarations, {
          extraTools: (hub) =>
            hubHostTools({
              hub,
              ...(prepared.auditDir
                ? {
                    audit: {
                      dir: prepared.auditDir,
                      env,
                      ...(typeof audit?.keyFile === 'string' ? { keyFile: audit.keyFile } : {}),
                    },
                  }
                : {}),
              connectorsConfig: prepared.sections,
              actionsTopic: prefix + ACTIONS_TOPIC,
              instancesTopic: prefix + INSTANCES_TOPIC,
            }),
        }) as ComponentDeclaration),
  );
}
