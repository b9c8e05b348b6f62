/** Who is calling the bridge, as proven by a verified token or by the operator at stdio start. */
export interface BridgeIdentity {
  /** User name (subject); the value that goes into an event's actor field. */
  sub: string;
  /** Roles from the user's groups (see policy.ts). */
  roles: string[];
  /** Session the token belongs to; `stdio` for the local operator. */
  sessionId: string;
}

/** How an audited action ended (the audit schema's ActionOutcome). */
export type ActionOutcome = 'succeeded' | 'failed' | 'denied';

/** One audit action the bridge reports: logins, denials, logouts, tool calls. */
export interface BridgeAction {
  /** Dotted action name: auth.login, auth.denied, auth.logout, auth.refresh, mcp.tool.call. */
  action: string;
  /** Verified identity, or the claimed user name for a failed login; never a token. */
  actor: string;
  /** What the action touched: the MCP tool name, or `mcp-bridge` for auth actions. */
  resource: string;
  outcome: ActionOutcome;
  /** Hex SHA-256 of the canonical JSON of the tool arguments, if any. */
  argsDigest?: string | null;
  /** Free-form context (reason, session id); never secrets or tokens. */
  details?: Record<string, string>;
}

/** Reports an audit action; the hub passes platform's action emitter, tests a real one. */
export type EmitAction = (action: BridgeAction) => Promise<void> | void;
