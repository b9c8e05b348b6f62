import type { JsonSchema } from '../schemas/index.ts';
import type { BridgeIdentity } from '../security/index.ts';

/**
 * A tool the bridge offers over MCP. Tools derived from component declarations (see
 * tools-from-declarations.ts) and the hub's own tools share this shape; the server filters
 * them per caller with the policy and validates arguments against `inputSchema`.
 */

export interface ToolCallContext {
  /** The verified caller; its `sub` is the actor of every event the call produces. */
  identity: BridgeIdentity;
  /** Aborted when the client cancels (notifications/cancelled) or the connection drops. */
  signal: AbortSignal;
  /** Correlates everything this call causes (command event, result, audit action). */
  correlationId: string;
  /** The caller's key for this call (call-id.ts): a retry with the same key is the same command. */
  idempotencyKey?: string;
  /** Reports progress to the client when it asked for it (no-op otherwise). */
  progress(progress: number, total?: number, message?: string): Promise<void>;
}

export interface ToolOutcome {
  /** Result object; must match `outputSchema` when the tool has one. */
  structuredContent?: Record<string, unknown>;
  /** Human-readable text; defaults to the JSON of structuredContent. */
  text?: string;
  /** True for a tool-level failure the agent should see (not a protocol error). */
  isError?: boolean;
}

export interface BridgeTool {
  /** Dotted tool name, e.g. `image.analyze`; matched by policy patterns. */
  name: string;
  title?: string;
  description: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  /** True when the tool changes an external system. */
  mutating: boolean;
  run(args: Record<string, unknown>, context: ToolCallContext): Promise<ToolOutcome>;
}
