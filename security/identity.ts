import type { ActionInput } from '../platform/index.ts';

/** Who is calling the bridge, as proven by a verified token or by the operator at stdio start. */
export interface BridgeIdentity {
  /** User name (subject); the value that goes into an event's actor field. */
  sub: string;
  /** Roles from the user's groups (see policy.ts). */
  roles: string[];
  /** Session the token belongs to; `stdio` for the local operator. */
  sessionId: string;
}

/**
 * One audit action the bridge reports (logins, denials, logouts, tool calls): platform's
 * ActionInput, so `createActionEmitter(...).emit` can be passed as it is.
 */
export type BridgeAction = ActionInput;

/** Reports an audit action; the hub passes platform's action emitter, tests a real one. */
export type EmitAction = (action: BridgeAction) => Promise<unknown> | undefined;
