import { afterAll } from 'vitest';
import { runEndpointFaults } from '../connectors/fault-matrix.ts';
import { crmSubject } from '../connectors/subjects/crm.ts';
import { erpSubject } from '../connectors/subjects/erp.ts';
import { hrSubject } from '../connectors/subjects/hr.ts';
import { createTally } from './tally.ts';

/**
 * External faults at the ERP (OData v4, SAP CAP), CRM (Salesforce-style REST) and HR (SCIM 2.0)
 * systems the connectors talk to: slow, 500, 429, reset and half a response; see
 * test/connectors/fault-matrix.ts for what each case checks.
 */
const tally = createTally(import.meta.filename);
afterAll(() => void tally.report());

runEndpointFaults(erpSubject(), tally);
runEndpointFaults(crmSubject(), tally);
runEndpointFaults(hrSubject(), tally);
