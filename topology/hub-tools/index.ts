import type { BridgeTool } from '../../mcp-bridge/index.ts';
import { ACTIONS_TOPIC, createActionEmitter, type HubContext } from '../../platform/index.ts';
import { type AuditVerifyDeps, auditVerifyTool } from './audit-verify-tool.ts';
import { connectorsStatusTool } from './connectors-status-tool.ts';
import { replayStartTool } from './replay-tool.ts';

/**
 * Hub tools that need layer-4 capabilities (replays, the audit verifier, connector offsets and
 * the instance registry). The bridge is a component and may not import these layers, so the
 * hub builds the tools here and hands them to it as `extraTools`.
 */

export interface HubHostToolsDeps {
  hub: HubContext;
  /** Audit folder and keys for `audit.verify`; without it the tool is left out. */
  audit?: AuditVerifyDeps;
  /** The connectors config (group ids, offsets topic) for `connectors.status`. */
  connectorsConfig?: Record<string, unknown>;
  /** Registry topic of hub instances (default `_tributary.instances`). */
  instancesTopic?: string;
  /** Topic of replay checkpoints (default `_tributary.replays`). */
  replayCheckpointTopic?: string;
  /** Where replays report their actions (default `hub.actions`). */
  actionsTopic?: string;
}

export type { AuditVerifyDeps } from './audit-verify-tool.ts';
export { auditVerifyTool } from './audit-verify-tool.ts';
export type { ConnectorsStatusDeps } from './connectors-status-tool.ts';
export { connectorsStatusTool } from './connectors-status-tool.ts';
export type { ReplayToolDeps } from './replay-tool.ts';
export { replayStartTool } from './replay-tool.ts';

/** `replay.start`, `audit.verify` (when an audit folder is given) and `connectors.status`, for the bridge's `extraTools`. */
export function hubHostTools(deps: HubHostToolsDeps): BridgeTool[] {
  const actions = createActionEmitter({
    producer: deps.hub.producer,
    source: 'mcp-bridge',
    topic: deps.actionsTopic ?? ACTIONS_TOPIC,
  });
  return [
    replayStartTool({
      hub: deps.hub,
      actions,
      ...(deps.replayCheckpointTopic ? { checkpointTopic: deps.replayCheckpointTopic } : {}),
    }),
    ...(deps.audit ? [auditVerifyTool(deps.audit)] : []),
    connectorsStatusTool({
      hub: deps.hub,
      ...(deps.connectorsConfig ? { connectorsConfig: deps.connectorsConfig } : {}),
      ...(deps.instancesTopic ? { instancesTopic: deps.instancesTopic } : {}),
    }),
  ];
}
