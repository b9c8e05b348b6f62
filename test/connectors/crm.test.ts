import { runConnectorContract } from './contract.ts';
import { crmSubject } from './subjects/crm.ts';

runConnectorContract(crmSubject());
