/**
 * Runs the demo systems in the foreground: `node demo/run.ts` (ports 4004, 4713, 4714), then
 * `CRM_CLIENT_SECRET=... HR_SCIM_TOKEN=... tributary connectors run erp crm hr`.
 */
import { startDemoSystems } from './index.ts';

const systems = await startDemoSystems({
  ...(process.env.DEMO_CHANGE_EVERY_MS ? { changeEveryMs: Number(process.env.DEMO_CHANGE_EVERY_MS) } : {}),
});
process.stdout.write(
  [
    `ERP (OData v4, SAP CAP)   ${systems.erp.url}`,
    `CRM (Salesforce-style)    ${systems.crm.url}`,
    `HR  (SCIM 2.0, scimmy)    ${systems.hr.url}`,
    'connector secrets:',
    ...Object.entries(systems.env).map(([k, v]) => `  export ${k}=${v}`),
    '',
  ].join('\n'),
);
const stop = () => {
  void systems.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
setInterval(() => undefined, 1 << 30);
