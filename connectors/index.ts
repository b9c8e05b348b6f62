/** The connectors' public surface: declarations for the topology, CLI and MCP bridge; nothing deeper. */
import { crmConnector } from './crm/declaration.ts';
import { erpConnector } from './erp/declaration.ts';
import { hrConnector } from './hr/declaration.ts';

export { type CrmConfig, crmConnector } from './crm/declaration.ts';
export { type ErpConfig, erpConnector } from './erp/declaration.ts';
export { type HrConfig, hrConnector } from './hr/declaration.ts';
export {
  connectorConfig,
  findConnector,
  parseResetTarget,
  type RunConnectorsOptions,
  readConnectorsConfig,
  runConnectors,
} from './runner.ts';
export type { RunningConnector } from './runtime/connector.ts';
export {
  CONNECTOR_CONTROL_TOPIC,
  type ConnectorControl,
  type ControlCommand,
  type ControlRecord,
  createConnectorControl,
} from './runtime/control.ts';
export { connectorRuntimeDeclaration } from './runtime/declaration.ts';
export {
  createSourceOffsetStore,
  SOURCE_OFFSETS_TOPIC,
  type SourceOffsetStore,
} from './runtime/source-offsets.ts';

/** Every connector the hub ships, in a stable order. */
export const connectorDeclarations = [erpConnector, crmConnector, hrConnector] as const;
